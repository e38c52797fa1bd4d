// Weighted rendezvous (highest random weight) hashing with a bounded-load guard.
//
// Each eligible node scores -weight / ln(h), h = hash(key, node) in (0, 1): the node with the
// highest score wins, and a node wins a share of keys proportional to its weight (the
// logarithmic method). Viewers of one camera meet on one node, every replica picks the same
// node, and a node leaving moves only its own keys.
//
// The guard (Mirrokni, Thorup, Zadimoghaddam 2016, "Consistent Hashing with Bounded Loads"):
// walking nodes by descending score, take the first whose load per weight is within
// (1 + ε) × (Σ load + 1) / Σ weight over the group's eligible nodes — the +1 is the session
// being placed, so a group with no load at all always admits its top node. Taking the first
// within the bound in score order is the same as taking the best score among those within it,
// so no sort is needed.
//
// Bandwidth, where declared: a node with capacity.mbps must also have its share of the
// group's bandwidth in use within (1 + ε) × (Σ mbps + one session's worth) / Σ capacity.mbps,
// over the eligible nodes that declare it (one session's worth: their mean Mbit/s per
// session). Nodes that declare no bandwidth are weighed by sessions alone. When the two
// bounds leave no node, the sessions bound alone decides, as it would without bandwidth.

import { nodeIneligibility } from './eligibility.js'
import { hashKey, pairUnit } from '../math/hash.js'
import type { BalancingPolicy, CandidateAssessment, Choice, ChoiceContext } from './policy.js'
import type { SnapshotNode } from './snapshot.js'

export const defaultEpsilon = 0.25

/** The score of a node of `weight` for a key; higher wins. Weight 0 scores 0. */
export function rendezvousScore (weight: number, keyHash: number, seed: number): number {
  return -weight / Math.log(pairUnit(keyHash, seed))
}

// Ties (two seeds colliding) go to the smaller id, so the order nodes are listed in never
// decides.
function beats (score: number, node: SnapshotNode, bestScore: number, best: SnapshotNode | null): boolean {
  return score > bestScore || (score === bestScore && best !== null && node.id < best.id)
}

function withinBound (node: SnapshotNode, admitted: number, totalWeight: number): boolean {
  // load / weight <= admitted / totalWeight, without dividing.
  return node.doc.load.sessions * totalWeight <= admitted * node.weight
}

/** The group's bandwidth over its eligible nodes that declare capacity.mbps. */
interface Bandwidth {
  mbps: number
  capacity: number
  sessions: number
}

function withinBandwidth (node: SnapshotNode, admittedMbps: number, totalCapacity: number): boolean {
  // mbps / capacity <= admittedMbps / totalCapacity, without dividing.
  return node.capacityMbps === Infinity || node.doc.load.mbps * totalCapacity <= admittedMbps * node.capacityMbps
}

function admittedMbps (bandwidth: Bandwidth, epsilon: number): number {
  const perSession = bandwidth.sessions > 0 ? bandwidth.mbps / bandwidth.sessions : 0
  return (1 + epsilon) * (bandwidth.mbps + perSession)
}

/** The rendezvous choice among `candidates`, or null when none is eligible. */
export function chooseRendezvous (
  candidates: readonly SnapshotNode[],
  key: string,
  context: ChoiceContext,
  epsilon: number
): Choice | null {
  const keyHash = hashKey(key)
  let best: SnapshotNode | null = null
  let bestScore = -1
  let totalLoad = 0
  let totalWeight = 0
  let bandwidthMbps = 0
  let bandwidthCapacity = 0
  let bandwidthSessions = 0
  for (const node of candidates) {
    if (nodeIneligibility(node, context, context.nowMs, context.nodeTtlMs) !== null) continue
    const load = node.doc.load
    totalLoad += load.sessions
    totalWeight += node.weight
    if (node.capacityMbps !== Infinity) {
      bandwidthMbps += load.mbps
      bandwidthCapacity += node.capacityMbps
      bandwidthSessions += load.sessions
    }
    const score = rendezvousScore(node.weight, keyHash, node.seed)
    if (beats(score, node, bestScore, best)) {
      best = node
      bestScore = score
    }
  }
  if (best === null) return null
  const admitted = (1 + epsilon) * (totalLoad + 1)
  const mbpsAdmitted = bandwidthCapacity > 0
    ? admittedMbps({ mbps: bandwidthMbps, capacity: bandwidthCapacity, sessions: bandwidthSessions }, epsilon)
    : 0
  if (withinBound(best, admitted, totalWeight) && withinBandwidth(best, mbpsAdmitted, bandwidthCapacity)) {
    return { node: best, score: bestScore }
  }

  // The top node is over a bound: the best of those within both, else the best within the
  // sessions bound. One always is within that, since the weighted mean of load / weight is
  // below it.
  best = null
  bestScore = -1
  let bySessions: SnapshotNode | null = null
  let bySessionsScore = -1
  for (const node of candidates) {
    if (nodeIneligibility(node, context, context.nowMs, context.nodeTtlMs) !== null) continue
    if (!withinBound(node, admitted, totalWeight)) continue
    const score = rendezvousScore(node.weight, keyHash, node.seed)
    if (beats(score, node, bySessionsScore, bySessions)) {
      bySessions = node
      bySessionsScore = score
    }
    if (withinBandwidth(node, mbpsAdmitted, bandwidthCapacity) && beats(score, node, bestScore, best)) {
      best = node
      bestScore = score
    }
  }
  if (best !== null) return { node: best, score: bestScore }
  return bySessions === null ? null : { node: bySessions, score: bySessionsScore }
}

/** Every candidate's reason, rendezvous score and whether the load bound turns it away. */
export function assessRendezvous (
  candidates: readonly SnapshotNode[],
  key: string,
  context: ChoiceContext,
  epsilon: number
): CandidateAssessment[] {
  const keyHash = hashKey(key)
  const reasons = candidates.map((node) => nodeIneligibility(node, context, context.nowMs, context.nodeTtlMs))
  let totalLoad = 0
  let totalWeight = 0
  const bandwidth: Bandwidth = { mbps: 0, capacity: 0, sessions: 0 }
  candidates.forEach((node, i) => {
    if (reasons[i] !== null) return
    totalLoad += node.doc.load.sessions
    totalWeight += node.weight
    if (node.capacityMbps !== Infinity) {
      bandwidth.mbps += node.doc.load.mbps
      bandwidth.capacity += node.capacityMbps
      bandwidth.sessions += node.doc.load.sessions
    }
  })
  const admitted = (1 + epsilon) * (totalLoad + 1)
  const mbpsAdmitted = bandwidth.capacity > 0 ? admittedMbps(bandwidth, epsilon) : 0
  return candidates.map((node, i) => {
    const reason = reasons[i] ?? null
    if (reason !== null) return { reason, score: null, overLoadBound: false }
    return {
      reason,
      score: rendezvousScore(node.weight, keyHash, node.seed),
      overLoadBound: !withinBound(node, admitted, totalWeight) || !withinBandwidth(node, mbpsAdmitted, bandwidth.capacity)
    }
  })
}

/** The default policy. `epsilon` ≥ 0; Infinity turns the load bound off. */
export function createRendezvousPolicy (epsilon: number = defaultEpsilon): BalancingPolicy {
  if (typeof epsilon !== 'number' || Number.isNaN(epsilon) || epsilon < 0) {
    throw new TypeError(`epsilon must be a number ≥ 0, got ${String(epsilon)}`)
  }
  return {
    name: 'rendezvous',
    choose (candidates, key, context) {
      return chooseRendezvous(candidates, key, context, epsilon)
    },
    assess (candidates, key, context) {
      return assessRendezvous(candidates, key, context, epsilon)
    }
  }
}
