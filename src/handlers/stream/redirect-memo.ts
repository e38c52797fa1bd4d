// The answer to a warm request, remembered for the rest of the second. Within one second and
// one node snapshot, the same subject, group, pattern, format, partner, owner and client-IP
// binding select the same node and earn the same signed URL (see redirect-grants.ts), so the
// selection — linear in the group's size — and the URL run once per popular stream per
// second. A new snapshot, or liveness applied to it in place, starts the memo afresh.

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
  let second = -1
  let owner: RoutingSnapshot | undefined
  let version = -1
  let entries = new Map<string, MemoizedRedirect>()

  function current (snapshot: RoutingSnapshot): Map<string, MemoizedRedirect> {
    const s = Math.floor(now() / 1000)
    if (s !== second || snapshot !== owner || snapshot.livenessVersion !== version) {
      second = s
      owner = snapshot
      version = snapshot.livenessVersion
      entries = new Map()
    }
    return entries
  }

  return {
    get: (snapshot, key) => current(snapshot).get(key),
    set (snapshot, key, answer) {
      const map = current(snapshot)
      if (map.size < MAX_ENTRIES) map.set(key, answer)
    }
  }
}
