// The route explainer: for an IP, a server, a camera and a format, where the client is, the
// group chain tried, every candidate node with its reason and score, the winner, on the map, and
// the nodes a viewer could move to: an HLS viewer's pathways in order, or a JSON answer's
// alternates.

import { api } from '../api.js'
import { h, replace, table } from '../dom.js'
import { drawMap } from '../map.js'

const FORMATS = ['flv', 'hls', 'ws-fmp4']

/** The pathways of an HLS answer, the chosen node first; for other formats the JSON answer's alternates. */
function pathwayFacts (answer, format) {
  const hls = format === 'hls'
  const listed = hls ? answer.pathways : answer.pathways.slice(1)
  const items = listed.map((p, i) => h('li', { dataset: { node: p.node } }, `${p.node} in ${p.group}${hls && i === 0 ? ' (chosen)' : ''}`))
  return [
    h('dt', {}, hls ? 'HLS pathways' : 'Alternates (redirect=false)'),
    h('dd', {}, items.length === 0 ? 'none' : h('ol', { id: 'explain-pathways' }, items))
  ]
}

function place (location) {
  const parts = [location.city, location.region_iso, location.country_code].filter((p) => p !== null && p !== undefined)
  const at = location.coordinates === null ? 'no coordinates' : `${location.coordinates[0]}, ${location.coordinates[1]}`
  return `${parts.join(', ') || 'unknown'} (${at})`
}

export async function explainPage (ctx) {
  const { root, notify, params } = ctx
  const field = (name, label, value, attributes = {}) => h('label', {}, `${label} `, h('input', { name, value, id: `explain-${name}`, ...attributes }))
  const result = h('div', { id: 'explain-result' })
  const form = h('form', { class: 'explain', onsubmit: (event) => { event.preventDefault(); explain() } },
    field('ip', 'Client IP', params.get('ip') ?? '77.88.8.8', { required: true, inputmode: 'decimal' }),
    field('server', 'Server', params.get('server') ?? 'UIN-DEMO-1', { required: true }),
    field('camera', 'Camera', params.get('camera') ?? 'cam-1'),
    h('label', {}, 'Format ', h('select', { name: 'format', id: 'explain-format' }, FORMATS.map((f) => h('option', { value: f, selected: f === (params.get('format') ?? 'flv') }, f)))),
    field('pattern', 'Pattern', params.get('pattern') ?? 'streaming'),
    h('button', { type: 'submit' }, 'Explain'))

  async function explain () {
    const query = new URLSearchParams()
    for (const name of ['ip', 'server', 'camera', 'format', 'pattern']) {
      const value = form.elements[name].value.trim()
      if (value !== '') query.set(name, value)
    }
    try {
      const [answer, groups, nodes] = await Promise.all([api('GET', `/route?${query}`), api('GET', '/geo-groups'), api('GET', '/nodes')])
      const rows = answer.candidates.map((c) => {
        const won = answer.chosen !== null && answer.chosen.node === c.node && answer.chosen.group === c.group && answer.chosen.pattern === c.pattern
        return h('tr', { class: won ? 'chosen' : c.eligible ? 'eligible' : 'ineligible', dataset: { node: c.node } },
          h('th', { scope: 'row' }, c.node), h('td', {}, c.group), h('td', {}, c.pattern), h('td', {}, c.eligible ? 'yes' : 'no'),
          h('td', { class: 'reason' }, c.reason), h('td', { class: 'score' }, c.score === null ? '—' : c.score.toFixed(3)))
      })
      const map = await drawMap({ id: 'explain-map', groups: groups.items, nodes: nodes.items, client: answer.location, winner: answer.chosen, label: 'The client, the groups and the node chosen' })
      const facts = h('dl', { class: 'facts' },
        h('dt', {}, 'Location'), h('dd', { id: 'explain-location' }, `${place(answer.location)} from the ${answer.location_source}`),
        h('dt', {}, 'Group chain'), h('dd', { id: 'explain-groups' }, answer.groups.join(' → ') || 'none', ` (matched by ${answer.group_rule})`),
        h('dt', {}, 'Partner'), h('dd', {}, answer.partner ?? 'unknown server'),
        h('dt', {}, 'Winner'), h('dd', { id: 'explain-winner' }, answer.chosen === null ? 'no node can take this stream' : `${answer.chosen.node} in ${answer.chosen.group} (${answer.chosen.pattern})`),
        pathwayFacts(answer, query.get('format') ?? 'flv'))
      replace(result, h('div', { class: 'explain-grid' },
        h('div', { class: 'explain-facts' }, facts, h('h2', {}, 'Candidates'), table(['Node', 'Group', 'Pattern', 'Eligible', 'Reason', 'Score'], rows, { id: 'candidates' })),
        h('figure', { class: 'map-box' }, map, h('figcaption', {}, 'The client (red), the route to the winner\'s group (line), groups and nodes; the winner is ringed.'))))
      history.replaceState(null, '', `#/explain?${query}`)
    } catch (err) {
      replace(result)
      notify(err)
    }
  }

  replace(root, h('h1', {}, 'Route explainer'),
    h('p', { class: 'summary' }, 'How a request would be routed, without its token, billing or camera checks.'),
    form, result)
  if (params.has('ip')) await explain()
}
