// Who watches what, now: live counts per node, camera and account, and the live sessions (HLS
// sessions and hook plays) page by page, filtered by account, node, server, camera and format,
// all refreshed every few seconds. With the admin right each session has an "End" button: the
// viewer is stopped, the slot is free at once, and the audit trail records who ended it.

import { api } from '../api.js'
import { age, h, replace, table } from '../dom.js'
import { confirmButton } from './editor.js'

const REFRESH_MS = 3000
const PAGE_SIZE = 50
const FILTERS = ['account', 'node', 'server', 'camera', 'format']
const FORMATS = ['', 'flv', 'hls', 'ws-fmp4']

// A token id (sha256 in hex) is long: its start is enough to tell tokens apart in a cell, the
// whole is in the tooltip, as on the Tokens page.
const short = (id, length = 12) => id.length > length + 1 ? `${id.slice(0, length)}…` : id

/** What the operator learns after an End, in the API's terms of what reached the viewer. */
function endedMessage (session, ended) {
  const what = `${session.kind === 'hls' ? 'HLS session' : 'play'} of ${session.account} on ${session.node} ended, its slot is free`
  if (ended.viewer === 'refused') return [`${what}; its player is refused from its next request on every gateway`, 'ok']
  if (ended.viewer === 'dropped') return [`${what}; the node dropped the viewer`, 'ok']
  return [`${what}; the viewer was not dropped: ${ended.message ?? 'the node did not say why'}`, 'warn']
}

export async function viewersPage (ctx) {
  const { root, canWrite, notify, params } = ctx
  const filter = Object.fromEntries(FILTERS.map((name) => [name, params.get(name) ?? '']))
  // The cursors of the pages walked through: the first page has none.
  let cursors = [null]
  let next = null
  // Each refresh is numbered; an answer that a newer refresh overtook is dropped.
  let asked = 0
  let ages = []

  const summary = h('p', { class: 'summary' })
  const tbody = h('tbody')
  const counts = h('div', { class: 'counts' })
  const pageInfo = h('span', { class: 'page-info' })
  const first = h('button', { type: 'button', class: 'secondary', onclick: () => { cursors = [null]; refresh().catch(notify) } }, 'First page')
  const previous = h('button', { type: 'button', class: 'secondary previous', onclick: () => { cursors.pop(); refresh().catch(notify) } }, 'Previous page')
  const nextPage = () => {
    // A second click before the next page came would skip a page.
    if (next !== null && cursors.at(-1) !== next) cursors.push(next)
    refresh().catch(notify)
  }
  const more = h('button', { type: 'button', class: 'secondary', id: 'viewers-next', onclick: nextPage }, 'Next page')

  const field = (name, label, placeholder) => h('label', {}, `${label} `, h('input', { name, id: `viewers-${name}`, value: filter[name], placeholder }))
  const filters = h('form', {
    class: 'filters',
    onsubmit: (event) => {
      event.preventDefault()
      for (const name of FILTERS) filter[name] = filters.elements[name].value.trim()
      cursors = [null]
      // Kept in the address, so that a filtered view can be bookmarked and reloaded.
      history.replaceState(null, '', hashOf(filter))
      refresh().catch(notify)
    }
  },
  field('account', 'Account', 'acct-demo'),
  field('node', 'Node', 'node-moscow-1'),
  field('server', 'Server', 'UIN-DEMO-1'),
  field('camera', 'Camera', 'cam-1'),
  h('label', {}, 'Format ', h('select', { name: 'format', id: 'viewers-format' }, FORMATS.map((f) => h('option', { value: f, selected: f === filter.format }, f || 'any')))),
  h('button', { type: 'submit' }, 'Show'))

  const query = () => {
    const q = new URLSearchParams({ limit: String(PAGE_SIZE) })
    for (const name of FILTERS) if (filter[name] !== '') q.set(name, filter[name])
    const after = cursors.at(-1)
    if (after !== null) q.set('after', after)
    return q
  }

  const row = (session, now) => {
    const started = h('td', { class: 'age', title: session.started_at })
    const seen = h('td', { class: 'age', title: session.last_seen ?? 'never' })
    ages.push([started, session.started_at], [seen, session.last_seen])
    const cells = [
      h('th', { scope: 'row', class: 'session-id' }, h('code', {}, session.id), h('span', { class: 'badge' }, session.kind)),
      h('td', {}, session.account),
      h('td', { class: 'hash' }, session.token_id === null ? '—' : h('code', { title: session.token_id }, short(session.token_id))),
      h('td', {}, `${session.server}/${session.camera}`),
      h('td', { class: 'node' }, session.node),
      h('td', { class: 'format' }, session.format),
      h('td', { class: 'viewer' }, session.address ?? 'unknown', session.country === null ? '' : ` (${session.country})`),
      started,
      seen
    ]
    if (canWrite) {
      cells.push(h('td', { class: 'actions' }, confirmButton('End', `End the ${session.kind === 'hls' ? 'HLS session' : 'play'} of ${session.account} on ${session.node} (${session.server}/${session.camera}, from ${session.address ?? 'an unknown address'})? Its viewer is stopped and its slot freed.`, async () => {
        const ended = await api('DELETE', `/sessions/${encodeURIComponent(session.id)}`)
        notify(...endedMessage(session, ended))
        await refresh()
      }, notify, { class: 'danger end' })))
    }
    started.textContent = age(session.started_at, now)
    seen.textContent = age(session.last_seen, now)
    return h('tr', { dataset: { session: session.id, node: session.node } }, cells)
  }

  function tick (now = Date.now()) {
    for (const [cell, at] of ages) cell.textContent = age(at, now)
  }

  const countTable = (title, id, head, entries) => h('section', { class: 'count-box' },
    h('h2', {}, title),
    table(head, entries.length === 0
      ? [h('tr', {}, h('td', { colspan: head.length }, 'none'))]
      : entries.map(([key, label, link, sessions]) => h('tr', { dataset: { key } },
        h('th', { scope: 'row' }, h('a', { href: hashOf({ ...filter, ...link }) }, label)), h('td', { class: 'sessions' }, String(sessions)))),
    { id }))

  function render (answer) {
    const now = Date.now()
    const filtered = FILTERS.some((name) => filter[name] !== '')
    summary.textContent = `${answer.counts.total} live session${answer.counts.total === 1 ? '' : 's'}${filtered ? ' matching the filter' : ''}. Refreshed every ${REFRESH_MS / 1000} s; a count links to its sessions.`
    replace(counts,
      countTable('Per node', 'viewer-nodes', ['Node', 'Sessions'], answer.counts.nodes.map((c) => [c.node, c.node, { node: c.node }, c.sessions])),
      countTable('Per camera', 'viewer-cameras', ['Camera', 'Sessions'], answer.counts.cameras.map((c) => [`${c.server}/${c.camera}`, `${c.server}/${c.camera}`, { server: c.server, camera: c.camera }, c.sessions])),
      countTable('Per account', 'viewer-accounts', ['Account', 'Sessions'], answer.counts.accounts.map((c) => [c.account, c.account, { account: c.account }, c.sessions])))
    ages = []
    replace(tbody, answer.items.length === 0
      ? h('tr', { class: 'empty' }, h('td', { colspan: canWrite ? 10 : 9 }, cursors.length > 1 ? 'No more live sessions on this page.' : 'No live sessions.'))
      : answer.items.map((session) => row(session, now)))
    next = answer.next
    more.hidden = next === null
    previous.hidden = cursors.length === 1
    first.hidden = cursors.length <= 2
    pageInfo.textContent = `page ${cursors.length}`
  }

  async function refresh () {
    const mine = ++asked
    const answer = await api('GET', `/sessions?${query()}`)
    if (mine === asked) render(answer)
  }

  const sessions = table(['Session', 'Account', 'Token id', 'Server/camera', 'Node', 'Format', 'Viewer', 'Started', 'Last seen', ...(canWrite ? [''] : [])], [], { id: 'viewers' })
  sessions.querySelector('tbody').replaceWith(tbody)
  replace(root,
    h('h1', {}, 'Viewers'),
    summary,
    counts,
    filters,
    sessions,
    h('div', { class: 'pager' }, first, previous, pageInfo, more))
  await refresh()
  const ticker = setInterval(() => tick(), 1000)
  const poller = setInterval(() => { refresh().catch(notify) }, REFRESH_MS)
  return () => { clearInterval(ticker); clearInterval(poller) }
}

/** The page's address for a filter: #/viewers?node=… */
function hashOf (filter) {
  const q = new URLSearchParams()
  for (const name of FILTERS) if ((filter[name] ?? '') !== '') q.set(name, filter[name])
  const text = q.toString()
  return `#/viewers${text === '' ? '' : `?${text}`}`
}
