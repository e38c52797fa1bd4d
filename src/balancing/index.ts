// Node selection: snapshot, eligibility, policies, the fallback chain, and its explanation.

export { buildSnapshot, groupChain, groupNodes, patternChain, formatBit, NodeIndex } from './snapshot.js'
export type { Snapshot, SnapshotInput, SnapshotNode } from './snapshot.js'
export { nodeIneligibility, ineligibleReasons } from './eligibility.js'
export type { EligibilityRequest, IneligibleReason } from './eligibility.js'
export { createPolicy, policyNames } from './policies.js'
export type { BalancingPolicy, CandidateAssessment, Choice, ChoiceContext, PolicyName, PolicyOptions } from './policies.js'
export { defaultEpsilon } from './rendezvous.js'
export { selectNode } from './select-node.js'
export type { Selection, SelectionOptions, SelectionRequest } from './select-node.js'
export { explainSelection } from './explain.js'
export type { CandidateReason, ExplainedCandidate, ExplainedChoice, Explanation } from './explain.js'
