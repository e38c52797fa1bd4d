// The nodes that could take a request, best first: the pathways of an HLS answer, the
// alternates of a JSON answer, and where a client goes when it names the node that failed it.
// selectNode answers the one question on every request and stops at the first group with a node;
// this walks on, through the rest of the group chain and the partner's fallback patterns, so that
// a group with a single node still gets alternates, from its fallback groups.
//
// Within a group, nodes come in the policy's order (its score, best first), those the policy
// would pass over for load after the others; only nodes eligible now are listed. It asks the
// policy for every node's assessment, so it allocates per node: it serves HLS and JSON answers
// and failovers, not the warm redirect.

import type { NodeDoc } from '../store/documents.js'
import { choiceContext, type SelectionOptions, type SelectionRequest } from './select-node.js'
import { groupChain, groupNodes, patternChain, type Snapshot } from './snapshot.js'

export interface RankedNode {
  readonly node: NodeDoc
  /** The group it was found in. */
  readonly group: string
  /** The pattern it was found for. */
  readonly pattern: string
}

export interface RankOptions {
  /** Most nodes listed. */
  readonly limit: number
  /** Nodes never listed: one already chosen, or one the client says failed it. */
  readonly exclude?: ReadonlySet<string>
}

export function rankNodes (snapshot: Snapshot, request: SelectionRequest, options: SelectionOptions, rank: RankOptions): RankedNode[] {
  const ranked: RankedNode[] = []
  const listed = new Set<string>(rank.exclude)
  if (rank.limit <= 0) return ranked
  const chain = groupChain(snapshot, request.group)
  // A client over IPv6 gets the nodes serving IPv6 first, as selectNode tries them first.
  for (const ipv6Only of request.ipv6 === true ? [true, false] : [false]) {
    for (const pattern of patternChain(snapshot, request.partner, request.pattern)) {
      const context = choiceContext(request, pattern, options, ipv6Only)
      for (const group of chain) {
        const nodes = groupNodes(snapshot, group)
        const assessments = options.policy.assess(nodes, request.key, context)
        const eligible = nodes.flatMap((node, i) => {
          const assessment = assessments[i]
          return assessment === undefined || assessment.reason !== null || listed.has(node.id) ? [] : [{ node, assessment }]
        })
        eligible.sort((a, b) =>
          Number(a.assessment.overLoadBound) - Number(b.assessment.overLoadBound) ||
          (b.assessment.score ?? 0) - (a.assessment.score ?? 0) ||
          (a.node.id < b.node.id ? -1 : 1))
        for (const { node } of eligible) {
          listed.add(node.id)
          ranked.push({ node: node.doc, group, pattern })
          if (ranked.length >= rank.limit) return ranked
        }
      }
    }
  }
  return ranked
}
