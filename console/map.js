// A world map drawn as SVG from the Natural Earth outlines the world-atlas package ships
// (TopoJSON, served by the gateway at /admin/world-110m.json): decoded and projected here, in
// a few lines, so the console needs no map library and no tile server.

import { s } from './dom.js'

export const WIDTH = 960
export const HEIGHT = 480
// Latitudes past these hold no streaming node worth the space.
const NORTH = 84
const SOUTH = -58

/** Equirectangular: longitude and latitude straight to x and y. */
export function project (lon, lat) {
  return [(lon + 180) / 360 * WIDTH, (NORTH - lat) / (NORTH - SOUTH) * HEIGHT]
}

/** The arcs of a TopoJSON topology as [lon, lat] rings, undoing its quantization and deltas. */
function decodeArcs (topology) {
  const [sx, sy] = topology.transform.scale
  const [tx, ty] = topology.transform.translate
  return topology.arcs.map((arc) => {
    let x = 0
    let y = 0
    return arc.map(([dx, dy]) => {
      x += dx
      y += dy
      return [x * sx + tx, y * sy + ty]
    })
  })
}

function ringPath (arcs, indexes) {
  const points = []
  for (const index of indexes) {
    const arc = index >= 0 ? arcs[index] : [...arcs[~index]].reverse()
    // Consecutive arcs share their joining point.
    points.push(...(points.length === 0 ? arc : arc.slice(1)))
  }
  // A ring that crosses the antimeridian (Chukotka, Fiji) jumps by 360° of longitude; it is
  // unwrapped instead, and the part past the edge falls outside the map's view box.
  let shift = 0
  let previous
  return points.map(([lon, lat], i) => {
    if (previous !== undefined && lon + shift - previous > 180) shift -= 360
    else if (previous !== undefined && lon + shift - previous < -180) shift += 360
    previous = lon + shift
    const [x, y] = project(lon + shift, lat)
    return `${i === 0 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`
  }).join('') + 'Z'
}

/** One SVG path per country. */
export function countryPaths (topology) {
  const arcs = decodeArcs(topology)
  return topology.objects.countries.geometries.map((geometry) => {
    const polygons = geometry.type === 'Polygon' ? [geometry.arcs] : geometry.type === 'MultiPolygon' ? geometry.arcs : []
    const d = polygons.flatMap((rings) => rings.map((ring) => ringPath(arcs, ring))).join('')
    return s('path', { class: 'country', d }, s('title', {}, geometry.properties?.name ?? ''))
  })
}

let world
/** The map data, fetched from the gateway once per page. */
export function loadWorld () {
  world ??= fetch('/admin/world-110m.json').then((res) => {
    if (!res.ok) throw new Error(`the map data answered ${res.status}`)
    return res.json()
  })
  return world
}

/**
 * A map of geo groups (circles), their nodes (dots around them), fallbacks (dashed lines), and
 * optionally a client and the node chosen for it.
 */
export async function drawMap ({ id, groups, nodes = [], client = null, winner = null, label }) {
  const topology = await loadWorld()
  const svg = s('svg', { id, class: 'map', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': label })
  svg.append(s('rect', { class: 'sea', x: 0, y: 0, width: WIDTH, height: HEIGHT }))
  svg.append(s('g', { class: 'land' }, countryPaths(topology)))
  const at = new Map(groups.map((g) => [g._id, project(g.coordinates.lon, g.coordinates.lat)]))

  const links = s('g', { class: 'links' })
  for (const group of groups) {
    for (const to of group.fallback?.groups ?? []) {
      const [a, b] = [at.get(group._id), at.get(to)]
      if (a !== undefined && b !== undefined) links.append(s('line', { class: 'fallback', x1: a[0], y1: a[1], x2: b[0], y2: b[1] }, s('title', {}, `${group._id} falls back to ${to}`)))
    }
  }
  svg.append(links)

  const marks = s('g', { class: 'marks' })
  for (const group of groups) {
    const [x, y] = at.get(group._id)
    marks.append(s('circle', { class: `group${group.default ? ' default' : ''}`, cx: x, cy: y, r: 14, dataset: { group: group._id } }, s('title', {}, `${group._id}: ${group.name}`)))
    marks.append(s('text', { class: 'group-label', x, y: y - 19 }, group._id))
    const members = nodes.filter((n) => n.group === group._id)
    members.forEach((node, i) => {
      const angle = (i / Math.max(members.length, 1)) * 2 * Math.PI - Math.PI / 2
      const [nx, ny] = [x + Math.cos(angle) * 8, y + Math.sin(angle) * 8]
      const state = node.enabled === false ? 'disabled' : node.draining || node.reported_status === 'draining' ? 'draining' : 'up'
      const isWinner = winner !== null && winner.node === node._id
      marks.append(s('circle', { class: `node ${state}${isWinner ? ' winner' : ''}`, cx: nx.toFixed(1), cy: ny.toFixed(1), r: isWinner ? 6 : 3.5, dataset: { node: node._id } }, s('title', {}, `${node._id} (${state})`)))
    })
  }
  svg.append(marks)

  if (client?.coordinates) {
    const [lat, lon] = client.coordinates
    const [cx, cy] = project(lon, lat)
    const target = winner === null ? undefined : at.get(winner.group)
    if (target !== undefined) svg.append(s('line', { class: 'route', x1: cx, y1: cy, x2: target[0], y2: target[1] }))
    svg.append(s('circle', { class: 'client', cx, cy, r: 6 }, s('title', {}, `client: ${[client.city, client.country_code].filter(Boolean).join(', ')}`)))
  }
  return svg
}
