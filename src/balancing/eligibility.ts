// Whether a node may take a new viewer for a request, and if not, why. The reasons are
// stable strings: the admin route endpoint shows them and operators match on them.

import type { StreamFormat } from '../store/documents.js'
import { formatBit, type SnapshotNode } from './snapshot.js'

export const ineligibleReasons = [
  'disabled',
  'draining',
  'stale_heartbeat',
  'pattern',
  'format',
  'partner',
  'capacity',
  'over_bandwidth',
  'over_cpu',
  'no_ipv6',
  'weight'
] as const
export type IneligibleReason = typeof ineligibleReasons[number]

export interface EligibilityRequest {
  readonly partner: string
  readonly pattern: string
  readonly format: StreamFormat
  /** Only nodes that serve IPv6 (the client arrived over IPv6, and selection tries them first). */
  readonly ipv6Only?: boolean
}

// A plain loop: these lists hold one or two entries, and Array.prototype.includes costs a
// builtin call per node per request.
function contains (values: readonly string[], value: string): boolean {
  for (let i = 0; i < values.length; i++) {
    if (values[i] === value) return true
  }
  return false
}

/**
 * null when the node is eligible, else the first reason it is not, checked in the order of
 * `ineligibleReasons`. 'draining' is either drain: the admin's (`draining`) or the one the
 * node's own heartbeat reported (`reported_status`). A heartbeat exactly `nodeTtlMs` old is
 * still fresh; a node that never sent one is stale; a node whose heartbeat pace this replica
 * has learned is stale sooner, two missed beats after its last (staleAfterMs). A node at or
 * above a declared bandwidth or CPU limit, by its last heartbeat, is over_bandwidth or over_cpu.
 * 'weight' is a node whose weight is not positive: no policy may pick it.
 */
/**
 * When the node goes silent by what this replica knows now: its last heartbeat plus two missed
 * beats at its pace (when learned) or NODE_TTL_S. -Infinity for a node that never beat.
 */
export function silentAt (node: SnapshotNode, nodeTtlMs: number): number {
  const lastSeen = node.doc.last_seen?.getTime() ?? Number.NaN
  const silentAfter = node.staleAfterMs < nodeTtlMs ? node.staleAfterMs : nodeTtlMs
  return Number.isFinite(lastSeen) ? lastSeen + silentAfter : -Infinity
}

export function nodeIneligibility (
  node: SnapshotNode,
  request: EligibilityRequest,
  nowMs: number,
  nodeTtlMs: number
): IneligibleReason | null {
  if (!node.enabled) return 'disabled'
  const doc = node.doc
  // Both read from the document: the reported status is applied in place with each heartbeat.
  if (doc.draining || doc.reported_status === 'draining') return 'draining'
  const lastSeen = doc.last_seen
  // Two missed beats at the node's own pace, when this replica has learned it, else NODE_TTL_S.
  const silentAfter = node.staleAfterMs < nodeTtlMs ? node.staleAfterMs : nodeTtlMs
  // Negated so that an invalid date (NaN) counts as stale.
  if (lastSeen === null || !(nowMs - lastSeen.getTime() <= silentAfter)) return 'stale_heartbeat'
  if (!contains(node.patterns, request.pattern)) return 'pattern'
  if ((node.formatMask & formatBit(request.format)) === 0) return 'format'
  if (node.partners.length > 0 && !contains(node.partners, request.partner)) return 'partner'
  const load = doc.load
  if (load.sessions >= node.capacity) return 'capacity'
  if (load.mbps >= node.capacityMbps) return 'over_bandwidth'
  if (load.cpu >= node.capacityCpu) return 'over_cpu'
  if (request.ipv6Only === true && !node.ipv6) return 'no_ipv6'
  if (node.weight === 0) return 'weight'
  return null
}

/** What can change about a node while its viewers watch: the reasons of a steering manifest. */
export type LiveReason = 'disabled' | 'draining' | 'stale_heartbeat' | 'capacity' | 'over_bandwidth' | 'over_cpu' | 'weight'

/**
 * Why a node should not take viewers now, judging only what changes while they watch (an admin's
 * switch or drain, the node's heartbeats and load); null when it may. The request's fit
 * (pattern, format, partner, IPv6) was judged when the node was offered, and an admin's change
 * to it rebuilds nothing a viewer holds. Not for the hot path: nodeIneligibility is.
 */
export function liveIneligibility (node: SnapshotNode, nowMs: number, nodeTtlMs: number): LiveReason | null {
  if (!node.enabled) return 'disabled'
  const doc = node.doc
  if (doc.draining || doc.reported_status === 'draining') return 'draining'
  const silentAfter = node.staleAfterMs < nodeTtlMs ? node.staleAfterMs : nodeTtlMs
  const lastSeen = doc.last_seen
  if (lastSeen === null || !(nowMs - lastSeen.getTime() <= silentAfter)) return 'stale_heartbeat'
  if (doc.load.sessions >= node.capacity) return 'capacity'
  if (doc.load.mbps >= node.capacityMbps) return 'over_bandwidth'
  if (doc.load.cpu >= node.capacityCpu) return 'over_cpu'
  if (node.weight === 0) return 'weight'
  return null
}
