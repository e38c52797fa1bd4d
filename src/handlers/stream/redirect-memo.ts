// The node chosen for a stream, and the signed URLs of the viewers sent there, remembered for
// the rest of the second. Within one second and one node snapshot, the same subject, group,
// pattern, format, partner and address family select the same node whoever asks, so the
// selection — linear in the group's size — runs once per popular stream per second, not once
// per viewer. The signed URL is each viewer's own (its grant names their owner, token and,
// when bound, address), remembered under the choice by the viewer's token id: a viewer asking
// again within the second gets the same URL, found without building a key, and a new viewer
// of a popular stream costs one signature, not a selection. A new snapshot, or liveness
// applied to it in place, starts the memo afresh, and a node is not chosen from here past the
// moment it goes silent (two missed heartbeats), which may fall within the second with no
// write to tell of it.

import { createSecondMemo } from '../../cache/second-memo.js'
import type { RoutingSnapshot } from '../../routing/routing-snapshot.js'
import type { NodeDoc } from '../../store/documents.js'

export interface MemoizedSelection {
  /** The node chosen, as the snapshot has it. */
  node: NodeDoc
  /** The node as answers name it. */
  answerNode: { id: string, host: string, group: string }
  /** The node's URL for the stream up to its grant, which ends it (query-signed formats only). */
  urlBeforeGrant: string
  /** When the node goes silent, as its liveness stood when it was chosen (ms). */
  silentAt: number
  /** The viewers sent to the node this second, by token id. */
  viewers: Map<string, ViewerRedirect>
}

/** One viewer's signed URL to the chosen node, and what its grant says of them. */
export interface ViewerRedirect {
  own: string
  tid: string
  tms: number | undefined
  cip: string | undefined
  url: string
  expiresAt: number
  jti: string
}

export interface RedirectMemo {
  /** The selection remembered for key, unless its node has gone silent by nowMs. */
  get: (snapshot: RoutingSnapshot, key: string, nowMs: number) => MemoizedSelection | undefined
  /** Remembers a selection, with the viewer whose request made it. */
  set: (snapshot: RoutingSnapshot, key: string, selection: Omit<MemoizedSelection, 'viewers'>, viewer: ViewerRedirect) => void
  /** Remembers a viewer's URL under a selection got from get this second. */
  addViewer: (selection: MemoizedSelection, viewer: ViewerRedirect) => void
}

/** Selections kept for the current second. */
const MAX_SELECTIONS = 10_000
/** Viewers' URLs kept for the current second, over all selections; past it, signed afresh. */
const MAX_VIEWERS = 10_000

export function createRedirectMemo (now: () => number): RedirectMemo {
  let viewers = 0
  const memo = createSecondMemo<MemoizedSelection>(now, MAX_SELECTIONS, () => { viewers = 0 })
  const addViewer = (selection: MemoizedSelection, viewer: ViewerRedirect): void => {
    // Another URL of the same token (an address of its own, bound) replaces the one kept.
    if (!selection.viewers.has(viewer.tid)) {
      if (viewers >= MAX_VIEWERS) return
      viewers++
    }
    selection.viewers.set(viewer.tid, viewer)
  }
  return {
    get: (snapshot, key, nowMs) => {
      const hit = memo.get(key, snapshot, snapshot.livenessVersion)
      return hit !== undefined && nowMs <= hit.silentAt ? hit : undefined
    },
    set: (snapshot, key, selection, viewer) => {
      const entry = { ...selection, viewers: new Map<string, ViewerRedirect>() }
      memo.set(key, entry, snapshot, snapshot.livenessVersion)
      // Past MAX_SELECTIONS a selection is not kept, and neither is its viewer.
      if (memo.get(key, snapshot, snapshot.livenessVersion) === entry) addViewer(entry, viewer)
    },
    addViewer
  }
}
