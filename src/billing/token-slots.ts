// A token's sharing limit: an access token with max_sessions N feeds at most N viewers at once,
// whatever its account's tariff allows, so that one token handed to a hundred people plays N
// streams, not a hundred. The token's N slots are slots of the pseudo-owner `token/${tid}`
// (tid: the token's sha256, which the grant carries with the limit, tms), taken with the
// compare-and-set of take-slot.ts by the session that plays: exact on every replica and under
// any concurrency, renewed and released with the session's other slots (its holder is the
// session's key). Account ids never hold '/', so the pseudo-owner never meets a real owner's
// slots, nor a grant's seats (`grant/…`).
//
// The redirect may refuse early when the count it has cached is already at the limit
// (countTokenSessions); the admission here is what is exact.

import type { SessionCollections } from './sessions.js'
import { takeSlot } from './take-slot.js'

export interface TokenSlotRequest {
  /** The token's id (its sha256 in hex). */
  tid: string
  /** Its max_sessions. */
  limit: number
  /** The session taking one. */
  holder: string
  node: string
  now: Date
  expiresAt: Date
  renewedBy: 'requests' | undefined
}

export function tokenSlotOwner (tid: string): string {
  return `token/${tid}`
}

/** The slot the session now holds, or null when the token already feeds `limit` others. */
export async function takeTokenSlot (slots: SessionCollections['slots'], request: TokenSlotRequest): Promise<string | null> {
  const { tid, limit, ...lease } = request
  return await takeSlot(slots, { owner: tokenSlotOwner(tid), limit, ...lease })
}

/** How many sessions the token feeds now: its slots whose lease is ahead. */
export async function countTokenSessions (slots: SessionCollections['slots'], tid: string, now: Date, options: { maxTimeMS?: number } = {}): Promise<number> {
  return await slots.countDocuments({ owner: tokenSlotOwner(tid), expires_at: { $gt: now } }, options)
}

export function tokenLimitMessage (limit: number): string {
  return `this access token already feeds ${limit === 1 ? 'a viewer' : `${limit} viewers`} at once, as many as its max_sessions allows`
}
