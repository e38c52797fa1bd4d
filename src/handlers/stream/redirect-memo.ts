// The answer to a warm request, remembered for the rest of the second. Within one second and
// one node snapshot, the same subject, group, pattern, format, partner, owner and client-IP
// binding select the same node and earn the same signed URL (see redirect-grants.ts), so the
// selection — linear in the group's size — and the URL run once per popular stream per
// second. A new snapshot, or liveness applied to it in place, starts the memo afresh, and an
// answer is not given past the moment its node goes silent (two missed heartbeats), which
// may fall within the second with no write to tell of it.

import { createSecondMemo } from '../../cache/second-memo.js'
import type { RoutingSnapshot } from '../../routing/routing-snapshot.js'

export interface MemoizedRedirect {
  url: string
  node: { id: string, host: string, group: string }
  expiresAt: number
  jti: string
  /** When the node goes silent, as its liveness stood when the answer was made (ms). */
  silentAt: number
}

export interface RedirectMemo {
  /** The answer remembered for key, unless its node has gone silent by nowMs. */
  get: (snapshot: RoutingSnapshot, key: string, nowMs: number) => MemoizedRedirect | undefined
  set: (snapshot: RoutingSnapshot, key: string, answer: MemoizedRedirect) => void
}

const MAX_ENTRIES = 10_000

export function createRedirectMemo (now: () => number): RedirectMemo {
  const memo = createSecondMemo<MemoizedRedirect>(now, MAX_ENTRIES)
  return {
    get: (snapshot, key, nowMs) => {
      const hit = memo.get(key, snapshot, snapshot.livenessVersion)
      return hit !== undefined && nowMs <= hit.silentAt ? hit : undefined
    },
    set: (snapshot, key, answer) => { memo.set(key, answer, snapshot, snapshot.livenessVersion) }
  }
}
