// The answer to a warm request, remembered for the rest of the second. Within one second and
// one node snapshot, the same subject, group, pattern, format, partner, owner and client-IP
// binding select the same node and earn the same signed URL (see redirect-grants.ts), so the
// selection — linear in the group's size — and the URL run once per popular stream per
// second. A new snapshot, or liveness applied to it in place, starts the memo afresh.

import { createSecondMemo } from '../../cache/second-memo.js'
import type { RoutingSnapshot } from '../../routing/routing-snapshot.js'

export interface MemoizedRedirect {
  url: string
  node: { id: string, host: string, group: string }
  expiresAt: number
  jti: string
}

export interface RedirectMemo {
  get: (snapshot: RoutingSnapshot, key: string) => MemoizedRedirect | undefined
  set: (snapshot: RoutingSnapshot, key: string, answer: MemoizedRedirect) => void
}

const MAX_ENTRIES = 10_000

export function createRedirectMemo (now: () => number): RedirectMemo {
  const memo = createSecondMemo<MemoizedRedirect>(now, MAX_ENTRIES)
  return {
    get: (snapshot, key) => memo.get(key, snapshot, snapshot.livenessVersion),
    set: (snapshot, key, answer) => { memo.set(key, answer, snapshot, snapshot.livenessVersion) }
  }
}
