// Explains a selection for the admin `GET /api/v1/route` endpoint: the group chain, every
// node of every group tried (for every pattern tried) with why it was or was not taken, and
// the winner. It walks the chain the way selectNode does and asks the policy the same
// question, so the two agree; it is not on the hot path and allocates freely.

import type { IneligibleReason } from './eligibility.js'
import { choiceContext, type SelectionOptions, type SelectionRequest } from './select-node.js'
import { groupChain, groupNodes, patternChain, type Snapshot } from './snapshot.js'

export type CandidateReason = IneligibleReason | 'eligible' | 'chosen' | 'over_load_bound'

export interface ExplainedCandidate {
  node: string
  group: string
  pattern: string
  eligible: boolean
  reason: CandidateReason
  /** The policy's score; null for an ineligible node. */
  score: number | null
}

export interface ExplainedChoice {
  node: string
  group: string
  pattern: string
}

export interface Explanation {
  /**
   * For a client that arrived over IPv6: 'ipv6_node' when a node serving IPv6 was found,
   * 'no_ipv6_node' when none was eligible and the candidates are every node's; else null.
   */
  ipv6: 'ipv6_node' | 'no_ipv6_node' | null
  /** The whole group chain for the request's group, in the order it is tried. */
  groups: string[]
  /** The nodes of each group tried, for each pattern tried, up to the one chosen. */
  candidates: ExplainedCandidate[]
  chosen: ExplainedChoice | null
}

export function explainSelection (snapshot: Snapshot, request: SelectionRequest, options: SelectionOptions): Explanation {
  if (request.ipv6 !== true) return { ...explainWalk(snapshot, request, options, false), ipv6: null }
  const overIpv6 = explainWalk(snapshot, request, options, true)
  if (overIpv6.chosen !== null) return { ...overIpv6, ipv6: 'ipv6_node' }
  return { ...explainWalk(snapshot, request, options, false), ipv6: 'no_ipv6_node' }
}

function explainWalk (snapshot: Snapshot, request: SelectionRequest, options: SelectionOptions, ipv6Only: boolean): Omit<Explanation, 'ipv6'> {
  const groups = [...groupChain(snapshot, request.group)]
  const candidates: ExplainedCandidate[] = []
  if (groups.length === 0) return { groups, candidates, chosen: null }
  for (const pattern of patternChain(snapshot, request.partner, request.pattern)) {
    const context = choiceContext(request, pattern, options, ipv6Only)
    for (const group of groups) {
      const nodes = groupNodes(snapshot, group)
      const choice = options.policy.choose(nodes, request.key, context)
      const assessments = options.policy.assess(nodes, request.key, context)
      nodes.forEach((node, i) => {
        const assessment = assessments[i]
        const reason = assessment?.reason ?? null
        const chosen = choice !== null && choice.node === node
        candidates.push({
          node: node.id,
          group,
          pattern,
          eligible: reason === null,
          reason: reason ?? (chosen ? 'chosen' : assessment?.overLoadBound === true ? 'over_load_bound' : 'eligible'),
          score: chosen ? choice.score : assessment?.score ?? null
        })
      })
      if (choice !== null) {
        return { groups, candidates, chosen: { node: choice.node.id, group, pattern } }
      }
    }
  }
  return { groups, candidates, chosen: null }
}
