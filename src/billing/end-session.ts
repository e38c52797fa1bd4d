// Ending a play before its viewer leaves: an operator's DELETE /api/v1/sessions/:id, or the
// session guard (session-guard.ts) when the token behind it is revoked or its account suspended.
//
// The end is one conditional write: the live document is marked ended (ended_at, ended_by,
// end_reason) and its lease set to now, so that every query that counts live plays stops
// counting it at once, no renewal (a heartbeat's, an HLS request's) can bring it back, and two
// replicas ending it together end it once. Its slots are freed in the same step, so the
// account's next viewer is admitted at once. The document stays until the sweeper removes it
// (a minute past its lease): that is how every replica learns of the end (ended-sessions.ts).
//
// Then the viewer is stopped: an HLS session is refused at its next playlist or segment by
// every replica (hls-sessions.ts); a hook play is dropped at its node (drop-play.ts), since no
// request of its passes through geogate again.

import type { NodeControl, SessionDoc, SessionEndedBy } from '../store/documents.js'
import type { Collections } from '../store/mongo.js'
import type { DropOutcome, PlayDropper } from './drop-play.js'
import { RELEASED, type SessionCollections } from './sessions.js'

export interface SessionEnd {
  /** Who ends it: an operator's owner_type:owner_id, or 'geogate'. */
  by: string
  reason: SessionEndedBy
  nowMs: number
}

/**
 * Marks the live session with this id ended and frees its slots; the session as it was before,
 * or null when no live session has this id (none, over, or ended already).
 */
export async function endSession (collections: SessionCollections, id: string, end: SessionEnd): Promise<SessionDoc | null> {
  const now = new Date(end.nowMs)
  const before = await collections.sessions.findOneAndUpdate(
    { _id: id, expires_at: { $gt: now }, ended_at: { $exists: false } },
    { $set: { ended_at: now, ended_by: end.by, end_reason: end.reason, expires_at: now } },
    { returnDocument: 'before' }
  )
  if (before === null) return null
  // By holder, as a release does: whatever the session holds is free now.
  await collections.slots.updateMany({ holder: id }, { $set: { expires_at: RELEASED }, $unset: { holder: '' } })
  return before
}

/** How an ended session's viewer is stopped. */
export type ViewerStop =
  /** An HLS session: every replica refuses its next request. */
  | { how: 'refused' }
  /** A hook play, dropped at its node through the node's control URL (or not: why). */
  | { how: 'dropped' }
  | { how: 'not_dropped', reason: 'no_control' | 'not_found' | 'failed', message: string }

export interface EndedSession {
  session: SessionDoc
  endedAt: Date
  stop: ViewerStop
}

export interface SessionEnderOptions {
  collections: SessionCollections & Pick<Collections, 'nodes'>
  dropper: Pick<PlayDropper, 'drop'>
  now: () => number
  /** This replica's HLS sessions, which refuse the ended one at once (the others learn by polling). */
  endHls?: (ids: string[]) => void
  /** Told of each session this replica ended, once it is stopped (session events, logs). */
  onEnded?: (ended: EndedSession, end: SessionEnd) => void
}

export interface SessionEnder {
  /** Ends and stops the live session with this id; null when there is none. */
  end: (id: string, by: string, reason: SessionEndedBy) => Promise<EndedSession | null>
}

export function createSessionEnder (options: SessionEnderOptions): SessionEnder {
  const { collections, dropper } = options

  async function stopViewer (session: SessionDoc): Promise<ViewerStop> {
    if (session.renewed_by === 'requests') {
      options.endHls?.([session._id])
      return { how: 'refused' }
    }
    const node = await collections.nodes.findOne({ _id: session.node }, { projection: { control: 1 } }).catch(() => null)
    const control: NodeControl | undefined = node?.control
    if (control === undefined) return { how: 'not_dropped', reason: 'no_control', message: `node ${session.node} has no control URL: the play goes on until its viewer leaves` }
    const outcome: DropOutcome = await dropper.drop(control, session.client_id)
    return outcome.dropped ? { how: 'dropped' } : { how: 'not_dropped', reason: outcome.reason, message: outcome.message }
  }

  return {
    async end (id, by, reason) {
      const end = { by, reason, nowMs: options.now() }
      const session = await endSession(collections, id, end)
      if (session === null) return null
      const ended = { session, endedAt: new Date(end.nowMs), stop: await stopViewer(session) }
      options.onEnded?.(ended, end)
      return ended
    }
  }
}
