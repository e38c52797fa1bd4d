// Plays admitted at the nodes, and the slots that bound how many one owner may hold at once
// (docs/design.md section 4). Both carry a lease, `expires_at`: a play is live while its lease is in
// the future, whether or not its document has been deleted yet. Every query filters on
// `expires_at`, so correctness never waits for a TTL index or the sweeper that deletes
// documents long past their lease (session-sweeper.ts).
//
// A slot is one document per unit of an owner's tariff limit: `${owner}#${k}` for k below
// max_concurrent_streams. A session holds at most one slot; taking one is a single-document
// compare-and-set (see take-slot.ts), which is what makes admission exact under
// concurrency on MongoDB and on the embedded store alike, without transactions. The same
// protocol bounds the viewer addresses of an HLS grant (grant-seats.ts).

import type { Collections } from '../store/mongo.js'
import type { SessionEvents } from './session-events.js'

export interface SessionCollections {
  sessions: Collections['sessions']
  slots: Collections['sessionSlots']
}

export function sessionCollectionsOf (collections: Pick<Collections, 'sessions' | 'sessionSlots'>): SessionCollections {
  return { sessions: collections.sessions, slots: collections.sessionSlots }
}

/**
 * One play is one client connection on one node; a repeated play of it is the same session.
 * Both parts may hold ':', so each is percent-encoded (which encodes ':' and '%'): the key
 * `px:1` + `5` and the key `px` + `1:5` differ, and no pair of ids can meet another's key.
 */
export function sessionKey (node: string, clientId: string): string {
  return `${encodeURIComponent(node)}:${encodeURIComponent(clientId)}`
}

export function slotId (owner: string, index: number): string {
  return `${owner}#${index}`
}

/** A lease end that is never in the future: what a released slot carries. */
export const RELEASED = new Date(0)

/** The duplicate-key error of a unique index, from MongoDB and the embedded store alike. */
export function isDuplicateKey (err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000
}

/** Whom a release tells of the end, and when it is. */
export interface ReleaseTold {
  events: SessionEvents
  nowMs: number
}

/**
 * Ends the session of a client on a node and frees every slot it holds. Idempotent; true when
 * a session document was there. When its end is to be told, the document is read first and
 * told by the stop whose delete took it, so two stops of one play tell it once. (A delete that
 * answers with the document would spare the read, but the embedded store refuses it.)
 */
export async function releaseSession (collections: SessionCollections, node: string, clientId: string, told?: ReleaseTold): Promise<boolean> {
  const key = sessionKey(node, clientId)
  const doc = told?.events.wanted === true ? await collections.sessions.findOne({ _id: key }) : null
  const [deleted] = await Promise.all([
    collections.sessions.deleteOne({ _id: key }),
    // By holder, not by the session's `slot`: a slot taken just before a crash, with no session
    // document written yet, is freed too.
    collections.slots.updateMany({ holder: key }, { $set: { expires_at: RELEASED }, $unset: { holder: '' } })
  ])
  // An ended session was told by whoever ended it.
  if (told !== undefined && doc !== null && deleted.deletedCount > 0 && doc.ended_at === undefined) {
    // A stop that comes after the lease ran out (the node was silent) ends nothing that was live.
    const lapsed = doc.expires_at.getTime() <= told.nowMs
    told.events.ended(doc, lapsed ? 'expired' : 'stopped', lapsed ? doc.expires_at : new Date(told.nowMs))
  }
  return deleted.deletedCount > 0
}

/**
 * A heartbeat says the node is alive, so the plays it admitted still are: their leases move to
 * now + leaseMs. Only live leases are renewed; a session that lapsed while the node was silent
 * may have lost its slot to another play, and is over. HLS sessions are left out: they live
 * only while their viewer keeps fetching (src/billing/hls-sessions.ts).
 */
export async function renewNodeLeases (collections: SessionCollections, node: string, nowMs: number, leaseMs: number): Promise<void> {
  const live = { node, expires_at: { $gt: new Date(nowMs) }, renewed_by: { $ne: 'requests' as const } }
  const lease = { $set: { expires_at: new Date(nowMs + leaseMs) } }
  await Promise.all([
    collections.slots.updateMany(live, lease),
    // The node vouches for its plays: when the sessions list says a play was last seen.
    collections.sessions.updateMany(live, { $set: { expires_at: new Date(nowMs + leaseMs), last_seen: new Date(nowMs) } })
  ])
}
