// The eligible node with the lowest load relative to its capacity; ties go to the higher
// weight, then the smaller id, so every replica agrees. No affinity: viewers of one camera
// may land on different nodes.

import { nodeIneligibility } from './eligibility.js'
import type { BalancingPolicy, CandidateAssessment, Choice, ChoiceContext } from './policy.js'
import type { SnapshotNode } from './snapshot.js'

/** The free share of the node's capacity: 1 when idle, 0 when full. Higher is better. */
export function leastLoadedScore (node: SnapshotNode): number {
  return 1 - node.doc.load.sessions / node.capacity
}

function beats (score: number, node: SnapshotNode, bestScore: number, best: SnapshotNode | null): boolean {
  if (best === null || score > bestScore) return true
  if (score < bestScore) return false
  if (node.weight !== best.weight) return node.weight > best.weight
  return node.id < best.id
}

export function chooseLeastLoaded (candidates: readonly SnapshotNode[], context: ChoiceContext): Choice | null {
  let best: SnapshotNode | null = null
  let bestScore = -Infinity
  for (const node of candidates) {
    if (nodeIneligibility(node, context, context.nowMs, context.nodeTtlMs) !== null) continue
    const score = leastLoadedScore(node)
    if (beats(score, node, bestScore, best)) {
      best = node
      bestScore = score
    }
  }
  return best === null ? null : { node: best, score: bestScore }
}

export function assessLeastLoaded (candidates: readonly SnapshotNode[], context: ChoiceContext): CandidateAssessment[] {
  return candidates.map((node) => {
    const reason = nodeIneligibility(node, context, context.nowMs, context.nodeTtlMs)
    return { reason, score: reason === null ? leastLoadedScore(node) : null, overLoadBound: false }
  })
}

export function createLeastLoadedPolicy (): BalancingPolicy {
  return {
    name: 'least-loaded',
    choose (candidates, _key, context) {
      return chooseLeastLoaded(candidates, context)
    },
    assess (candidates, _key, context) {
      return assessLeastLoaded(candidates, context)
    }
  }
}
