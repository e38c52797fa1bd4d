// Editing a document as JSON, saved as the merge patch between what was loaded and what was
// typed; and creating one from a template. The API checks everything and its message is shown.

import { mergePatchBetween } from '../api.js'
import { h } from '../dom.js'

/** A "Edit" disclosure holding the editable fields of doc as JSON. */
export function jsonEditor ({ doc, label = 'Edit as JSON', onSave, notify }) {
  const original = structuredClone(doc)
  const area = h('textarea', { class: 'json', rows: Math.min(24, JSON.stringify(doc, null, 2).split('\n').length + 1), spellcheck: 'false', 'aria-label': `${doc._id} as JSON` })
  area.value = JSON.stringify(doc, null, 2)
  const save = async (event) => {
    event.preventDefault()
    let edited
    try {
      edited = JSON.parse(area.value)
    } catch (err) {
      return notify(new Error(`not JSON: ${err.message}`))
    }
    const patch = mergePatchBetween(original, edited)
    if (Object.keys(patch).length === 0) return notify('nothing changed')
    await onSave(patch)
  }
  return h('details', { class: 'editor' },
    h('summary', {}, label),
    h('form', { onsubmit: save }, area, h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save'))))
}

/** A "New …" disclosure: a JSON template posted as it is typed. */
export function createForm ({ label, template, onCreate, notify }) {
  const area = h('textarea', { class: 'json', rows: Math.max(4, JSON.stringify(template, null, 2).split('\n').length + 1), spellcheck: 'false', 'aria-label': label })
  area.value = JSON.stringify(template, null, 2)
  const create = async (event) => {
    event.preventDefault()
    let body
    try {
      body = JSON.parse(area.value)
    } catch (err) {
      return notify(new Error(`not JSON: ${err.message}`))
    }
    await onCreate(body)
  }
  return h('details', { class: 'editor create' },
    h('summary', {}, label),
    h('p', { class: 'hint' }, 'Fields left out get their defaults.'),
    h('form', { onsubmit: create }, area, h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create'))))
}

/** A button that asks first, then runs action and reports its error. */
export function confirmButton (text, question, action, notify, attributes = {}) {
  return h('button', {
    type: 'button',
    ...attributes,
    onclick: async () => {
      if (!window.confirm(question)) return
      try {
        await action()
      } catch (err) {
        notify(err)
      }
    }
  }, text)
}
