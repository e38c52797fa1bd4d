// The audit trail, newest first: who changed what, and each field's value before and after.

import { api } from '../api.js'
import { h, replace, table } from '../dom.js'

const COLLECTIONS = ['', 'nodes', 'geo_groups', 'servers', 'partners', 'tariffs', 'accounts', 'tokens', 'sessions']

/** "weight: 10 → 3" for each top-level field that differs. */
function changes (before, after) {
  if (before === null) return 'created'
  if (after === null) return 'deleted'
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])
  const show = (v) => v === undefined ? '∅' : JSON.stringify(v)
  const lines = [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).map((k) => `${k}: ${show(before[k])} → ${show(after[k])}`)
  return lines.length === 0 ? 'no change' : lines.join('; ')
}

export async function auditPage (ctx) {
  const { root, notify } = ctx
  const tbody = h('tbody')
  let next = null
  const more = h('button', { type: 'button', class: 'secondary', hidden: true, onclick: () => load(false) }, 'Older entries')
  const filters = h('form', { class: 'filters', onsubmit: (event) => { event.preventDefault(); load(true) } },
    h('label', {}, 'Collection ', h('select', { name: 'collection' }, COLLECTIONS.map((c) => h('option', { value: c }, c || 'all')))),
    h('label', {}, 'Document id ', h('input', { name: 'id', placeholder: 'node-moscow-1' })),
    h('button', { type: 'submit' }, 'Show'))

  async function load (fresh) {
    const query = new URLSearchParams({ limit: '50' })
    if (filters.elements.collection.value !== '') query.set('collection', filters.elements.collection.value)
    if (filters.elements.id.value.trim() !== '') query.set('id', filters.elements.id.value.trim())
    if (!fresh && next !== null) query.set('before', next)
    try {
      const page = await api('GET', `/audit?${query}`)
      if (fresh) replace(tbody)
      tbody.append(...page.items.map((e) => h('tr', {},
        h('td', {}, new Date(e.at).toLocaleString()), h('td', {}, e.actor), h('td', {}, e.action), h('td', {}, e.collection), h('th', { scope: 'row' }, e.id),
        h('td', { class: 'changes' }, changes(e.before, e.after)))))
      next = page.next
      more.hidden = next === null
    } catch (err) {
      notify(err)
    }
  }

  const wrap = table(['When', 'Who', 'Action', 'Collection', 'Document', 'Changes'], [], { id: 'audit' })
  wrap.querySelector('tbody').replaceWith(tbody)
  replace(root, h('h1', {}, 'Audit trail'), filters, wrap, more)
  await load(true)
}
