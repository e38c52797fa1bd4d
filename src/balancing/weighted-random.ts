// Random choice by weight among the eligible nodes, in one pass (Chao's reservoir sampling:
// the i-th eligible node replaces the pick with probability w_i / Σ w so far). No affinity:
// viewers of one camera spread over the group. The source of randomness is injectable so a
// test can seed it.

import { nodeIneligibility } from './eligibility.js'
import type { BalancingPolicy, CandidateAssessment, Choice, ChoiceContext } from './policy.js'
import type { SnapshotNode } from './snapshot.js'

/** A number in [0, 1), as Math.random gives. */
export type RandomSource = () => number

/** The pick, scored by its probability of being picked (w / Σ w). */
export function chooseWeightedRandom (
  candidates: readonly SnapshotNode[],
  context: ChoiceContext,
  random: RandomSource
): Choice | null {
  let pick: SnapshotNode | null = null
  let totalWeight = 0
  for (const node of candidates) {
    if (nodeIneligibility(node, context, context.nowMs, context.nodeTtlMs) !== null) continue
    totalWeight += node.weight
    if (random() * totalWeight < node.weight) pick = node
  }
  return pick === null ? null : { node: pick, score: pick.weight / totalWeight }
}

export function assessWeightedRandom (candidates: readonly SnapshotNode[], context: ChoiceContext): CandidateAssessment[] {
  const reasons = candidates.map((node) => nodeIneligibility(node, context, context.nowMs, context.nodeTtlMs))
  let totalWeight = 0
  candidates.forEach((node, i) => { if (reasons[i] === null) totalWeight += node.weight })
  return candidates.map((node, i) => {
    const reason = reasons[i] ?? null
    return { reason, score: reason === null ? node.weight / totalWeight : null, overLoadBound: false }
  })
}

export function createWeightedRandomPolicy (random: RandomSource = Math.random): BalancingPolicy {
  if (typeof random !== 'function') throw new TypeError('random must be a function returning a number in [0, 1)')
  return {
    name: 'weighted-random',
    choose (candidates, _key, context) {
      return chooseWeightedRandom(candidates, context, random)
    },
    assess (candidates, _key, context) {
      return assessWeightedRandom(candidates, context)
    }
  }
}
