// How soon a silent node is taken out of new choices: after two missed heartbeats at its own
// pace, not only after NODE_TTL_S. A node that dies keeps no viewer waiting on it for 15 s when
// it beats every 2.
//
// The pace is learned, on each replica, from the heartbeats this replica sees: the gaps between
// consecutive `last_seen` values it reads from the store (each a time the store took a beat).
// The larger of the last two gaps is the pace, so one late beat makes detection slower for a
// while, never faster; a beat under a second after the last is a retry, not a pace (the next gap
// is measured from the beat before it). A replica that polls the
// store slower than the node beats sees every second or third beat and learns a longer pace:
// it detects later, never wrongly. Until two beats are seen, NODE_TTL_S alone decides.
//
// A live node's beat reaches a replica up to one snapshot refresh after it was taken, so a node
// is silent only once it is older than both two paces and one pace plus that refresh plus a
// second's slack: beating every 2 s with 1 s refreshes, a node is out 4 s after its last beat;
// a node beating as often as the replicas read is not mistaken for a dead one.

import type { SnapshotNode } from '../balancing/snapshot.js'

export interface HeartbeatPaces {
  /**
   * Takes in the node's last_seen as this replica now reads it and sets the node's
   * staleAfterMs from the pace learned so far (Infinity: not learned; NODE_TTL_S decides).
   */
  observe: (node: SnapshotNode) => void
  /** The pace learned for a node (ms), or undefined. */
  paceOf: (id: string) => number | undefined
}

interface Beats {
  /** The last last_seen seen (ms). */
  last: number
  /** The last two gaps (ms), newest last; 0: none yet. */
  gaps: [number, number]
}

/** Gaps shorter than this are a retried or repeated beat, not the node's pace. */
const MIN_GAP_MS = 1000
/** Slack beyond one pace and one refresh before a silent node is out. */
const SLACK_MS = 1000
/** Nodes remembered; past it the oldest entry is forgotten (it is learned again). */
const MAX_NODES = 100_000

export function createHeartbeatPaces (options: { refreshMs: number }): HeartbeatPaces {
  const { refreshMs } = options
  const beats = new Map<string, Beats>()

  function paceOf (id: string): number | undefined {
    const known = beats.get(id)
    if (known === undefined) return undefined
    const pace = Math.max(known.gaps[0], known.gaps[1])
    return pace > 0 ? pace : undefined
  }

  return {
    observe (node) {
      const seen = node.doc.last_seen?.getTime()
      if (seen === undefined || !Number.isFinite(seen)) return
      let known = beats.get(node.id)
      if (known === undefined) {
        if (beats.size >= MAX_NODES) {
          const oldest = beats.keys().next()
          if (oldest.done !== true) beats.delete(oldest.value)
        }
        known = { last: seen, gaps: [0, 0] }
        beats.set(node.id, known)
      } else if (seen - known.last >= MIN_GAP_MS) {
        known.gaps = [known.gaps[1], seen - known.last]
        known.last = seen
      }
      const pace = paceOf(node.id)
      node.staleAfterMs = pace === undefined ? Infinity : Math.max(2 * pace, pace + refreshMs + SLACK_MS)
    },
    paceOf
  }
}
