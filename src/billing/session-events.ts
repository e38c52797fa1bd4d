// What the places where a session starts or ends tell, so that partners learn of plays as they
// happen (their webhooks: src/webhooks/session-webhooks.ts). Billing knows nothing of where the
// events go; it is handed a SessionEvents and calls it where a session's start or end is
// decided, once per session on whichever replica decided it: the admission that wrote a new
// session, the stop that deleted it, the sweep whose delete took an expired one.
//
// Both calls are synchronous and cheap (they queue, never wait): they sit on the paths that
// answer nodes and viewers.

import type { SessionDoc } from '../store/documents.js'

/**
 * Why a session ended:
 * - stopped: the node said the viewer left (on_stop, play_done);
 * - expired: its lease ran out (an HLS viewer idle for HLS_IDLE_S, a node silent past
 *   SESSION_LEASE_S, an HLS session past HLS_SESSION_MAX_S);
 * - ended: an operator ended it;
 * - revoked: the token behind it was revoked;
 * - suspended: its account was suspended.
 */
export type SessionEndReason = 'stopped' | 'expired' | 'ended' | 'revoked' | 'suspended'

/**
 * A session as its events tell it: the stored document's fields, and what is known beside them.
 * Fields a document does not have yet are optional, so a stored session reads as one as it is.
 */
export type SessionRecord = Pick<SessionDoc, '_id' | 'owner' | 'node' | 'server' | 'camera' | 'format' | 'started_at'> & {
  /** The access token's id (its sha256, as the tokens collection keys it). */
  tid?: string
  /** The viewer's country (ISO 3166-1), when known. */
  country?: string | null
  /** The viewer's address: the country is looked up from it when not given; never sent. */
  address?: string
  /** Bytes sent to the viewer, when the node reported them. */
  bytes?: number | null
}

export interface SessionEvents {
  /** Whether anything listens now: when false, callers may skip work done only to tell. */
  readonly wanted: boolean
  started: (session: SessionRecord) => void
  /** endedAt: when it was over (default now); an expired session's is its lease's end. */
  ended: (session: SessionRecord, reason: SessionEndReason, endedAt?: Date) => void
}

/** Tells nobody: for processes and tests without partners' webhooks. */
export const NO_SESSION_EVENTS: SessionEvents = {
  wanted: false,
  started: () => {},
  ended: () => {}
}
