// Picks the streaming node for a stream request, walking the fallback chain: the client's
// group, its fallback groups, its nearest groups; then the same chain again for each of the
// partner's fallback patterns. null means no node anywhere: the caller answers 503 GW_NO_NODE.
//
// This runs on every stream request: no allocation per node, no closures, no distances.

import type { NodeDoc, StreamFormat } from '../store/documents.js'
import type { BalancingPolicy, ChoiceContext } from './policy.js'
import type { Snapshot } from './snapshot.js'
import { groupChain } from './snapshot.js'

export { groupChain }

export interface SelectionRequest {
  readonly partner: string
  /** The client's geo group; an unknown id means the default group. */
  readonly group: string
  readonly pattern: string
  readonly format: StreamFormat
  /** What viewers who should meet on one node share: `SERVER/CAMERA`. */
  readonly key: string
}

export interface SelectionOptions {
  readonly policy: BalancingPolicy
  readonly nowMs: number
  readonly nodeTtlMs: number
}

export interface Selection {
  readonly node: NodeDoc
  /** The group the node was found in. */
  readonly group: string
  /** The pattern it was found for: the request's, or one of the partner's fallbacks. */
  readonly pattern: string
}

function selectInChain (
  snapshot: Snapshot,
  chain: readonly string[],
  request: SelectionRequest,
  pattern: string,
  options: SelectionOptions
): Selection | null {
  const context: ChoiceContext = {
    partner: request.partner,
    pattern,
    format: request.format,
    nowMs: options.nowMs,
    nodeTtlMs: options.nodeTtlMs
  }
  for (const group of chain) {
    const nodes = snapshot.nodesByGroup.get(group)
    if (nodes === undefined) continue
    const choice = options.policy.choose(nodes, request.key, context)
    if (choice !== null) return { node: choice.node.doc, group, pattern }
  }
  return null
}

export function selectNode (snapshot: Snapshot, request: SelectionRequest, options: SelectionOptions): Selection | null {
  const chain = groupChain(snapshot, request.group)
  if (chain.length === 0) return null
  const selection = selectInChain(snapshot, chain, request, request.pattern, options)
  if (selection !== null) return selection
  const fallbacks = snapshot.patternFallbacks.get(request.partner)?.get(request.pattern)
  if (fallbacks === undefined) return null
  for (const pattern of fallbacks) {
    const fallback = selectInChain(snapshot, chain, request, pattern, options)
    if (fallback !== null) return fallback
  }
  return null
}
