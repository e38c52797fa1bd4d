// The session document of an admitted play, and what writing it tells: one admission at a time
// (admit-session.ts) upserts it and gives back what the same client id held before; a batch
// of new sessions (admit-new-sessions.ts) inserts them all in one command and upserts, this
// way, only those another replica wrote meanwhile. Both write the same fields and tell the
// same start.

import type { SessionDoc } from '../store/documents.js'
import type { StreamClaims } from '../signing/stream-signature.js'
import type { SessionEvents } from './session-events.js'
import { isDuplicateKey, RELEASED, type SessionCollections } from './sessions.js'

/** What a session document records of its play, beside its lease and its slots. */
export interface PlayedBy {
  node: string
  clientId: string
  claims: StreamClaims
  /** The viewer's address as the node reported it. */
  address?: string
  /** The viewer's country; null: unknown. */
  country?: string | null
}

export interface SessionLease {
  now: Date
  expiresAt: Date
  slot: string | null
  tokenSlot: string | null
  renewedBy: 'requests' | undefined
}

export type SessionFields = Omit<SessionDoc, '_id' | 'started_at'>

export function sessionFields (play: PlayedBy, lease: SessionLease): SessionFields {
  const { claims } = play
  const [server = '', camera = ''] = splitSubject(claims.sub)
  return {
    owner: claims.own,
    node: play.node,
    client_id: play.clientId,
    server,
    camera,
    format: claims.fmt,
    expires_at: lease.expiresAt,
    slot: lease.slot,
    ...(lease.tokenSlot !== null && { token_slot: lease.tokenSlot }),
    jti: claims.jti,
    ...(lease.renewedBy !== undefined && { renewed_by: lease.renewedBy }),
    ...(claims.tid !== undefined && { tid: claims.tid }),
    ...recordedViewer(play),
    last_seen: lease.now
  }
}

/**
 * Writes the session's document and settles what it held before under the same key: the slots
 * of an earlier play that are not this one's go back, and a session over by its lease, not yet
 * swept, is told ended before this one is told started. True when the session was live already.
 */
export async function recordSession (
  collections: SessionCollections, key: string, fields: SessionFields, lease: SessionLease, events: SessionEvents | undefined
): Promise<boolean> {
  const { now, slot, tokenSlot } = lease
  const before = await upsertSession(collections, key, fields, now)
  const renewed = before !== null && before.expires_at > now
  if (before !== null && !renewed) await collections.sessions.updateOne({ _id: key }, { $set: { started_at: now } })
  // The client id played before under another owner or tariff: what it held then is over.
  if (before?.slot != null && before.slot !== slot) await releaseSlot(collections.slots, before.slot, key)
  if (before?.token_slot !== undefined && before.token_slot !== tokenSlot) {
    await releaseSlot(collections.slots, before.token_slot, key)
    if (tokenSlot === null) await collections.sessions.updateOne({ _id: key }, { $unset: { token_slot: '' } })
  }
  if (!renewed && events !== undefined) {
    // The document of a session over by its lease, not yet swept, is taken by this one write
    // alone: its end is told here, once (an ended one was told by whoever ended it).
    if (before !== null && before.ended_at === undefined) events.ended(before, 'expired', before.expires_at)
    tellStarted(events, key, fields, now)
  }
  return renewed
}

/** The document of a session that has none yet. */
export function newSessionDoc (key: string, fields: SessionFields, now: Date): SessionDoc {
  return { _id: key, ...fields, started_at: now }
}

export function tellStarted (events: SessionEvents, key: string, fields: SessionFields, now: Date): void {
  const { owner, node, server, camera, format, tid, address, country } = fields
  events.started({
    _id: key,
    owner,
    node,
    server,
    camera,
    format,
    started_at: now,
    ...(tid !== undefined && { tid }),
    ...(address !== undefined && { address }),
    ...(country !== undefined && { country })
  })
}

/** Frees a slot the session holds, at once. */
export async function releaseSlot (slots: SessionCollections['slots'], id: string, holder: string): Promise<void> {
  await slots.updateOne({ _id: id, holder }, { $set: { expires_at: RELEASED }, $unset: { holder: '' } })
}

/** Writes the session's lease; returns the document as it was before, or null if new. */
async function upsertSession (collections: SessionCollections, key: string, fields: SessionFields, now: Date): Promise<SessionDoc | null> {
  const write = async (): Promise<SessionDoc | null> => await collections.sessions.findOneAndUpdate(
    { _id: key },
    { $set: fields, $setOnInsert: { started_at: now } },
    { upsert: true, returnDocument: 'before' }
  )
  try {
    return await write()
  } catch (err) {
    // Two upserts of one new _id can race on MongoDB; the loser retries as an update.
    if (!isDuplicateKey(err)) throw err
    return await write()
  }
}

/** Who watches, for the sessions list: what the node reported and where it is. */
function recordedViewer (play: PlayedBy): Pick<SessionDoc, 'address' | 'country'> {
  return {
    ...(play.address !== undefined && { address: play.address }),
    ...(play.country !== undefined && { country: play.country })
  }
}

function splitSubject (sub: string): [string, string] {
  const slash = sub.indexOf('/')
  return slash < 0 ? [sub, ''] : [sub.slice(0, slash), sub.slice(slash + 1)]
}
