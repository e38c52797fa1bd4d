// Picks the streaming node for a stream request, walking the fallback chain: the client's
// group, its fallback groups, its nearest groups; then the same chain again for each of the
// partner's fallback patterns. null means no node anywhere: the caller answers with the
// overflow URL when one is named (see overflow.ts), else 503 GW_NO_NODE.
//
// A client that arrived over IPv6 is first looked for among nodes that serve IPv6, over the
// whole chain; only when none anywhere is eligible does the chain run again over every node
// (the node's IPv4 address then serves, as it does for a dual-stack client).
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
  /** The client arrived over IPv6: prefer nodes that serve it. */
  readonly ipv6?: boolean
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
  options: SelectionOptions,
  ipv6Only: boolean
): Selection | null {
  const context = choiceContext(request, pattern, options, ipv6Only)
  for (const group of chain) {
    const nodes = snapshot.nodesByGroup.get(group)
    if (nodes === undefined) continue
    const choice = options.policy.choose(nodes, request.key, context)
    if (choice !== null) return { node: choice.node.doc, group, pattern }
  }
  return null
}

function selectInPatterns (snapshot: Snapshot, chain: readonly string[], request: SelectionRequest, options: SelectionOptions, ipv6Only: boolean): Selection | null {
  const selection = selectInChain(snapshot, chain, request, request.pattern, options, ipv6Only)
  if (selection !== null) return selection
  const fallbacks = snapshot.patternFallbacks.get(request.partner)?.get(request.pattern)
  if (fallbacks === undefined) return null
  for (const pattern of fallbacks) {
    const fallback = selectInChain(snapshot, chain, request, pattern, options, ipv6Only)
    if (fallback !== null) return fallback
  }
  return null
}

export function selectNode (snapshot: Snapshot, request: SelectionRequest, options: SelectionOptions): Selection | null {
  const chain = groupChain(snapshot, request.group)
  if (chain.length === 0) return null
  if (request.ipv6 === true) {
    const overIpv6 = selectInPatterns(snapshot, chain, request, options, true)
    if (overIpv6 !== null) return overIpv6
  }
  return selectInPatterns(snapshot, chain, request, options, false)
}

/** What a policy is told about one try: the request, under one pattern, at one time. */
export function choiceContext (request: SelectionRequest, pattern: string, options: SelectionOptions, ipv6Only: boolean): ChoiceContext {
  return { partner: request.partner, pattern, format: request.format, ipv6Only, nowMs: options.nowMs, nodeTtlMs: options.nodeTtlMs }
}
