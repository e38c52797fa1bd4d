// The one interface every balancing policy implements. A policy gets a group's nodes as they
// are — eligible or not — and checks eligibility itself while it scores, so choosing takes
// one pass and allocates nothing per node.

import type { EligibilityRequest, IneligibleReason } from './eligibility.js'
import type { SnapshotNode } from './snapshot.js'

export interface ChoiceContext extends EligibilityRequest {
  readonly nowMs: number
  readonly nodeTtlMs: number
}

export interface Choice {
  readonly node: SnapshotNode
  /** The policy's score for the node; higher is better. */
  readonly score: number
}

/** What a policy thinks of one candidate, for explaining a decision. */
export interface CandidateAssessment {
  readonly reason: IneligibleReason | null
  /** The policy's score for an eligible node; null for an ineligible one. */
  readonly score: number | null
  /** Eligible, but the policy would pass over it for load (rendezvous's bound). */
  readonly overLoadBound: boolean
}

export interface BalancingPolicy {
  readonly name: string
  /** The node for this key among the candidates, or null when none is eligible. */
  choose (candidates: readonly SnapshotNode[], key: string, context: ChoiceContext): Choice | null
  /** Each candidate's reason, score and load verdict, in the candidates' order. Not for the hot path. */
  assess (candidates: readonly SnapshotNode[], key: string, context: ChoiceContext): CandidateAssessment[]
}
