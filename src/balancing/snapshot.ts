// An in-memory view of the nodes, geo groups and partners that selection reads on every
// request. It is rebuilt whole (O(nodes), plus O(groups²) for the distance order) whenever
// configuration changes; nothing on the hot path computes a distance or parses a document.
//
// Immutable by type (readonly), not by Object.freeze: V8 in Node 20 walks frozen arrays and
// reads frozen objects several times slower, and these are walked on every request.
//
// The view holds each node document by reference. What a heartbeat writes — `load`,
// `last_seen` and `reported_status` — is read from the document at selection time, so a caller
// may apply heartbeats (or count its own redirects) in place without a rebuild. Everything else
// is the admin's and fixed at build (weight, patterns, formats, partners, capacity, enabled,
// group), or read from the document but changed only by an admin write, which rebuilds the
// view (`draining`).

import { placesByDistance } from '../math/distance.js'
import type { GeoGroupDoc, NodeDoc, PartnerDoc } from '../store/documents.js'
import { nodeSeed } from '../math/hash.js'

export interface SnapshotNode {
  readonly id: string
  readonly group: string
  readonly doc: NodeDoc
  /** The node's half of the rendezvous hash, from its id. */
  readonly seed: number
  /** The configured weight; 0 when it is not a positive finite number (never chosen). */
  readonly weight: number
  readonly enabled: boolean
  readonly capacity: number
  /** Most Mbit/s out; Infinity when the node declares none. */
  readonly capacityMbps: number
  /** Most CPU %; Infinity when the node declares none. */
  readonly capacityCpu: number
  /** Whether the node serves IPv6 clients. */
  readonly ipv6: boolean
  readonly patterns: readonly string[]
  /** One bit per stream format served (see formatBit). */
  readonly formatMask: number
  /** Partners the node is dedicated to; empty: shared. */
  readonly partners: readonly string[]
  /**
   * How long after its last heartbeat the node counts as silent, from the pace of its
   * heartbeats as this replica learned it (src/routing/heartbeat-pace.ts); Infinity until
   * learned, when NODE_TTL_S alone decides. Set in place, like the heartbeat's fields.
   */
  staleAfterMs: number
}

export interface Snapshot {
  readonly nodesById: ReadonlyMap<string, SnapshotNode>
  /** Each group's nodes, in the order they were given. */
  readonly nodesByGroup: ReadonlyMap<string, readonly SnapshotNode[]>
  readonly groupsById: ReadonlyMap<string, GeoGroupDoc>
  readonly partnersById: ReadonlyMap<string, PartnerDoc>
  /** For each group, every other group, nearest first (great-circle distance, ties by id). */
  readonly nearestGroups: ReadonlyMap<string, readonly string[]>
  /** For each group, the groups selection tries in order (see buildGroupChain). */
  readonly groupChains: ReadonlyMap<string, readonly string[]>
  /** partner → pattern → the other patterns to try, in order. */
  readonly patternFallbacks: ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>
  /** The group an unknown group id falls back to, or null when none is marked default. */
  readonly defaultGroup: string | null
}

export interface SnapshotInput {
  readonly nodes: readonly NodeDoc[] | NodeIndex
  readonly groups: readonly GeoGroupDoc[]
  readonly partners: readonly PartnerDoc[]
}

/** The bit for a stream format; 0 for anything that is not one, so no node serves it. */
export function formatBit (format: string): number {
  // A switch: this runs once per node per request, and beats both a keyed lookup in a
  // null-prototype object and indexOf. A test checks it covers every stream format.
  switch (format) {
    case 'flv': return 1
    case 'hls': return 2
    case 'ws-fmp4': return 4
    default: return 0
  }
}

const noStrings: readonly string[] = []

function distinct (values: readonly string[]): readonly string[] {
  return values.length === 0 ? noStrings : [...new Set(values)]
}

function declaredLimit (value: number | undefined): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : Infinity
}

function snapshotNode (doc: NodeDoc): SnapshotNode {
  let formatMask = 0
  for (const format of doc.formats) formatMask |= formatBit(format)
  return {
    id: doc._id,
    group: doc.group,
    doc,
    seed: nodeSeed(doc._id),
    weight: Number.isFinite(doc.weight) && doc.weight > 0 ? doc.weight : 0,
    enabled: doc.enabled,
    capacity: doc.capacity.sessions,
    capacityMbps: declaredLimit(doc.capacity.mbps),
    capacityCpu: declaredLimit(doc.capacity.cpu),
    ipv6: doc.ipv6 !== false,
    patterns: distinct(doc.patterns),
    formatMask,
    partners: distinct(doc.partners),
    staleAfterMs: Infinity
  }
}

function nearestOrder (groups: readonly GeoGroupDoc[]): Map<string, readonly string[]> {
  return placesByDistance(groups.map((group) => ({ id: group._id, lat: group.coordinates.lat, lon: group.coordinates.lon })))
}

/**
 * The group itself, then its `fallback.groups` in order, then — when `fallback.to_closest` —
 * up to `fallback.limit` more groups, nearest first. Unknown ids and repeats are skipped; the
 * limit counts groups added, not groups looked at.
 */
function buildGroupChain (
  group: GeoGroupDoc,
  groupsById: ReadonlyMap<string, GeoGroupDoc>,
  nearest: readonly string[]
): readonly string[] {
  const chain = [group._id]
  for (const id of group.fallback.groups) {
    if (groupsById.has(id) && !chain.includes(id)) chain.push(id)
  }
  if (group.fallback.to_closest) {
    const limit = Number.isNaN(group.fallback.limit) ? 0 : group.fallback.limit
    let added = 0
    for (const id of nearest) {
      if (added >= limit) break
      if (chain.includes(id)) continue
      chain.push(id)
      added++
    }
  }
  return chain
}

function partnerFallbacks (partner: PartnerDoc): ReadonlyMap<string, readonly string[]> {
  const byPattern = new Map<string, readonly string[]>()
  // Object.entries, not indexing: a pattern from a query string such as 'constructor' must
  // not find Object.prototype's properties.
  for (const [pattern, fallbacks] of Object.entries(partner.pattern_fallbacks)) {
    byPattern.set(pattern, distinct(fallbacks.filter((fallback) => fallback !== pattern)))
  }
  return byPattern
}

/**
 * The nodes of a view, indexed one document at a time, so that a caller reading thousands
 * from MongoDB can index each as it arrives, between turns of the event loop, instead of all
 * of them in one synchronous build. A node index goes into one view only.
 */
export class NodeIndex {
  readonly nodesById = new Map<string, SnapshotNode>()
  readonly nodesByGroup = new Map<string, SnapshotNode[]>()

  /** Throws a TypeError on a repeated node id. */
  add (doc: NodeDoc): void {
    if (this.nodesById.has(doc._id)) throw new TypeError(`duplicate node id ${JSON.stringify(doc._id)}`)
    const node = snapshotNode(doc)
    this.nodesById.set(node.id, node)
    const members = this.nodesByGroup.get(node.group)
    if (members === undefined) this.nodesByGroup.set(node.group, [node])
    else members.push(node)
  }
}

/**
 * Builds the view. The nodes come as documents or as an index already filled. Throws a
 * TypeError on a repeated node, group or partner id.
 */
export function buildSnapshot (input: SnapshotInput): Snapshot {
  const groupsById = new Map<string, GeoGroupDoc>()
  let defaultGroup: string | null = null
  for (const group of input.groups) {
    if (groupsById.has(group._id)) throw new TypeError(`duplicate geo group id ${JSON.stringify(group._id)}`)
    groupsById.set(group._id, group)
    if (group.default && defaultGroup === null) defaultGroup = group._id
  }

  let index: NodeIndex
  if (input.nodes instanceof NodeIndex) {
    index = input.nodes
  } else {
    index = new NodeIndex()
    for (const doc of input.nodes) index.add(doc)
  }
  const { nodesById, nodesByGroup } = index

  const nearestGroups = nearestOrder(input.groups)
  const groupChains = new Map<string, readonly string[]>()
  for (const group of input.groups) {
    groupChains.set(group._id, buildGroupChain(group, groupsById, nearestGroups.get(group._id) ?? noStrings))
  }

  const partnersById = new Map<string, PartnerDoc>()
  const patternFallbacks = new Map<string, ReadonlyMap<string, readonly string[]>>()
  for (const partner of input.partners) {
    if (partnersById.has(partner._id)) throw new TypeError(`duplicate partner id ${JSON.stringify(partner._id)}`)
    partnersById.set(partner._id, partner)
    patternFallbacks.set(partner._id, partnerFallbacks(partner))
  }

  return {
    nodesById,
    nodesByGroup,
    groupsById,
    partnersById,
    nearestGroups,
    groupChains,
    patternFallbacks,
    defaultGroup
  }
}

const noNodes: readonly SnapshotNode[] = []

/** The nodes of a group; empty for a group with none, or an unknown one. */
export function groupNodes (snapshot: Snapshot, groupId: string): readonly SnapshotNode[] {
  return snapshot.nodesByGroup.get(groupId) ?? noNodes
}

/** The groups to try for a group id, in order; an unknown id gets the default group's chain. */
export function groupChain (snapshot: Snapshot, groupId: string): readonly string[] {
  const chain = snapshot.groupChains.get(groupId)
  if (chain !== undefined) return chain
  if (snapshot.defaultGroup === null) return noStrings
  return snapshot.groupChains.get(snapshot.defaultGroup) ?? noStrings
}

/** The patterns to try for a request: its own, then the partner's fallbacks for it, in order. */
export function patternChain (snapshot: Snapshot, partner: string, pattern: string): readonly string[] {
  const fallbacks = snapshot.patternFallbacks.get(partner)?.get(pattern)
  return fallbacks === undefined || fallbacks.length === 0 ? [pattern] : [pattern, ...fallbacks]
}
