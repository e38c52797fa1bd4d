// Nodes with live status: heartbeat age ticking every second, load and sessions, the status
// the node reports of itself; weight, enabled and the admin's draining edited in place, each
// change one PATCH. A node takes no new viewers when either drain is on: the admin's or its own.

import { api } from '../api.js'
import { age, h, replace } from '../dom.js'
import { confirmButton } from './editor.js'

const REFRESH_MS = 3000

// What is no number goes to the API as typed, and the API says what is wrong with it.
const asNumber = (text) => text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text

function status (node, now, ttlS) {
  if (!node.enabled) return 'disabled'
  if (node.last_seen === null) return 'never seen'
  if (now - Date.parse(node.last_seen) > ttlS * 1000) return 'stale'
  return node.draining || node.reported_status === 'draining' ? 'draining' : 'up'
}

export async function nodesPage (ctx) {
  const { root, canWrite, notify, nodeTtlS } = ctx
  const rows = new Map()
  const tbody = h('tbody')
  const summary = h('p', { class: 'summary' })
  let nodes = []

  const patch = async (node, change) => {
    try {
      const saved = await api('PATCH', `/nodes/${encodeURIComponent(node._id)}`, change)
      notify(`${node._id}: ${Object.entries(change).map(([k, v]) => `${k} ${v}`).join(', ')}`, 'ok')
      nodes = nodes.map((n) => n._id === saved._id ? saved : n)
    } catch (err) {
      notify(err)
    }
    // Whatever happened, show what the API holds now.
    await refresh()
  }

  const makeRow = (node) => {
    const cells = {
      status: h('td', { class: 'status' }),
      reported: h('td', { class: 'reported' }),
      age: h('td', { class: 'age' }),
      load: h('td', { class: 'load' }),
      weight: h('td', { class: 'weight' }),
      enabled: h('td', { class: 'enabled' }),
      draining: h('td', { class: 'draining' })
    }
    const inputs = {}
    if (canWrite) {
      inputs.weight = h('input', { type: 'number', class: 'weight', step: 'any', inputmode: 'decimal', 'aria-label': `${node._id} weight`, onchange: () => patch(node, { weight: asNumber(inputs.weight.value) }) })
      inputs.enabled = h('input', { type: 'checkbox', class: 'enabled', 'aria-label': `${node._id} enabled`, onchange: () => patch(node, { enabled: inputs.enabled.checked }) })
      inputs.draining = h('input', { type: 'checkbox', class: 'draining', 'aria-label': `${node._id} draining`, onchange: () => patch(node, { draining: inputs.draining.checked }) })
      cells.weight.append(inputs.weight)
      cells.enabled.append(inputs.enabled)
      cells.draining.append(inputs.draining)
    }
    const actions = h('td', { class: 'actions' }, canWrite && [
      confirmButton('Rotate key', `Give ${node._id} a new heartbeat key? The old one stops working at once.`, async () => {
        const { key } = await api('POST', `/nodes/${encodeURIComponent(node._id)}/key`)
        notify(`${node._id}: new heartbeat key (shown once, copy it now): ${key}`, 'ok')
      }, notify, { class: 'secondary' }),
      confirmButton('Delete', `Delete node ${node._id}?`, async () => {
        await api('DELETE', `/nodes/${encodeURIComponent(node._id)}`)
        notify(`${node._id} deleted`, 'ok')
        await refresh()
      }, notify, { class: 'danger' })
    ])
    const row = h('tr', { dataset: { node: node._id } },
      h('th', { scope: 'row' }, node._id), h('td', {}, node.group), h('td', { class: 'host' }, `${node.host}:${node.port}`),
      cells.status, cells.reported, cells.age, cells.load, cells.weight, cells.enabled, cells.draining, actions)
    return { row, cells, inputs }
  }

  const fill = (entry, node, now) => {
    const { cells, inputs } = entry
    const state = status(node, now, nodeTtlS)
    cells.status.textContent = state
    cells.status.className = `status ${state.replace(' ', '-')}`
    cells.reported.textContent = node.reported_status ?? '—'
    cells.reported.className = `reported ${node.reported_status ?? 'none'}`
    cells.age.textContent = age(node.last_seen, now)
    cells.load.textContent = `${node.load.sessions}/${node.capacity.sessions} sessions · ${node.load.mbps} Mbit/s · CPU ${node.load.cpu}%`
    if (canWrite) {
      // A field being typed in is left alone until it is done.
      if (document.activeElement !== inputs.weight) inputs.weight.value = String(node.weight)
      inputs.enabled.checked = node.enabled
      inputs.draining.checked = node.draining
    } else {
      cells.weight.textContent = String(node.weight)
      cells.enabled.textContent = node.enabled ? 'yes' : 'no'
      cells.draining.textContent = node.draining ? 'yes' : 'no'
    }
  }

  const render = () => {
    const now = Date.now()
    const seen = new Set()
    for (const node of nodes) {
      seen.add(node._id)
      let entry = rows.get(node._id)
      if (entry === undefined) {
        entry = makeRow(node)
        rows.set(node._id, entry)
      }
      entry.node = node
      fill(entry, node, now)
    }
    for (const [id, entry] of rows) {
      if (!seen.has(id)) { entry.row.remove(); rows.delete(id) }
    }
    replace(tbody, nodes.map((n) => rows.get(n._id).row))
    const up = nodes.filter((n) => status(n, now, nodeTtlS) === 'up').length
    summary.textContent = `${nodes.length} nodes, ${up} up and taking viewers. A node with no heartbeat for ${nodeTtlS} s gets no new viewers, nor one drained by an admin or reporting itself draining.`
  }

  const tick = () => {
    const now = Date.now()
    for (const entry of rows.values()) {
      entry.cells.age.textContent = age(entry.node.last_seen, now)
      const state = status(entry.node, now, nodeTtlS)
      entry.cells.status.textContent = state
      entry.cells.status.className = `status ${state.replace(' ', '-')}`
    }
  }

  async function refresh () {
    nodes = (await api('GET', '/nodes')).items
    render()
  }

  const createForm = canWrite && h('form', {
    class: 'inline-create',
    onsubmit: async (event) => {
      event.preventDefault()
      const form = event.currentTarget
      const body = { _id: form.elements.id.value.trim(), host: form.elements.host.value.trim(), group: form.elements.group.value.trim() }
      try {
        const created = await api('POST', '/nodes', body)
        notify(`${created._id} created. Its heartbeat key (shown once, copy it now): ${created.key}`, 'ok')
        form.reset()
        await refresh()
      } catch (err) {
        notify(err)
      }
    }
  },
  h('h2', {}, 'New node'),
  h('label', {}, 'Id ', h('input', { name: 'id', required: true, placeholder: 'node-paris-1' })),
  h('label', {}, 'Host ', h('input', { name: 'host', required: true, placeholder: 'paris-1.example.net' })),
  h('label', {}, 'Group ', h('input', { name: 'group', required: true, placeholder: 'eu-west' })),
  h('button', { type: 'submit' }, 'Create'),
  h('p', { class: 'hint' }, 'Port 443, TLS, weight 1, every format and the streaming pattern by default; a heartbeat key is generated.'))

  replace(root,
    h('h1', {}, 'Nodes'),
    summary,
    h('div', { class: 'table-wrap' }, h('table', { id: 'nodes' },
      h('thead', {}, h('tr', {}, ['Node', 'Group', 'Host', 'Status', 'Node reports', 'Last heartbeat', 'Load', 'Weight', 'Enabled', 'Drained by admin', ''].map((t) => h('th', { scope: 'col' }, t)))),
      tbody)),
    createForm)
  await refresh()
  const ticker = setInterval(tick, 1000)
  const poller = setInterval(() => { refresh().catch(notify) }, REFRESH_MS)
  return () => { clearInterval(ticker); clearInterval(poller) }
}
