// Geo groups: where they are, what clients they match, where they fall back to, and their
// nodes, on a world map and in a table; edited as JSON by an admin.

import { api } from '../api.js'
import { h, replace, table } from '../dom.js'
import { drawMap } from '../map.js'
import { confirmButton, createForm, jsonEditor } from './editor.js'

function rules (match) {
  const parts = []
  if (match.countries.length > 0) parts.push(`countries ${match.countries.join(', ')}`)
  if (match.regions.length > 0) parts.push(`regions ${match.regions.join(', ')}`)
  if (match.cities.length > 0) parts.push(`cities ${match.cities.slice(0, 5).join(', ')}${match.cities.length > 5 ? ` and ${match.cities.length - 5} more` : ''}`)
  if (match.cidrs.length > 0) parts.push(`${match.cidrs.length} CIDR${match.cidrs.length === 1 ? '' : 's'}`)
  return parts.length === 0 ? 'no rules' : parts.join('; ')
}

function fallback (group) {
  const parts = [...group.fallback.groups]
  if (group.fallback.to_closest) parts.push(`the ${group.fallback.limit} nearest`)
  return parts.length === 0 ? 'none' : parts.join(' → ')
}

export async function groupsPage (ctx) {
  const { root, canWrite, notify } = ctx
  const load = async () => {
    const [groups, nodes] = await Promise.all([api('GET', '/geo-groups'), api('GET', '/nodes')])
    return { groups: groups.items, nodes: nodes.items }
  }
  const render = async () => {
    const { groups, nodes } = await load()
    const save = (group) => async (patch) => {
      try {
        await api('PATCH', `/geo-groups/${encodeURIComponent(group._id)}`, patch)
        notify(`${group._id} saved`, 'ok')
        await render()
      } catch (err) {
        notify(err)
      }
    }
    const rows = groups.map((group) => h('tr', { dataset: { group: group._id } },
      h('th', { scope: 'row' }, group._id, group.default ? h('span', { class: 'badge' }, 'default') : null),
      h('td', {}, group.name),
      h('td', {}, `${group.coordinates.lat}, ${group.coordinates.lon}`),
      h('td', { class: 'rules' }, rules(group.match)),
      h('td', {}, fallback(group)),
      h('td', {}, nodes.filter((n) => n.group === group._id).map((n) => n._id).join(', ') || '—'),
      h('td', { class: 'actions' }, canWrite && [
        jsonEditor({ doc: group, onSave: save(group), notify }),
        confirmButton('Delete', `Delete geo group ${group._id}?`, async () => {
          await api('DELETE', `/geo-groups/${encodeURIComponent(group._id)}`)
          notify(`${group._id} deleted`, 'ok')
          await render()
        }, notify, { class: 'danger' })
      ])))
    const map = await drawMap({ id: 'groups-map', groups, nodes, label: 'Geo groups and their nodes on a world map' })
    replace(root,
      h('h1', {}, 'Geo groups'),
      h('p', { class: 'summary' }, 'A client goes to the group whose rules match it (CIDR, then city, region, country), else the nearest, else the default; dashed lines are fallbacks.'),
      h('figure', { class: 'map-box' }, map, h('figcaption', {}, 'Groups (rings) with their nodes (dots: green up, amber draining, grey disabled).')),
      table(['Group', 'Name', 'At', 'Matches', 'Falls back to', 'Nodes', ''], rows, { id: 'groups' }),
      canWrite && createForm({
        label: 'New geo group',
        template: { _id: 'asia-east', name: 'Asia, east', coordinates: { lat: 35.68, lon: 139.69 }, match: { countries: ['JP'], regions: [], cities: [], cidrs: [] } },
        notify,
        onCreate: async (body) => {
          try {
            await api('POST', '/geo-groups', body)
            notify(`${body._id} created`, 'ok')
            await render()
          } catch (err) {
            notify(err)
          }
        }
      }))
  }
  await render()
}
