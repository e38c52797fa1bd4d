// The authoritative concurrency check, taken when a node reports a play (DESIGN section 4).
//
// A play of an owner whose tariff allows N concurrent streams must take one of the owner's N
// slots. Taking a slot is one atomic single-document write that succeeds only if the slot is
// free (its lease is over) or already this session's:
//
//   findOneAndUpdate({ _id: slot, $or: [{ holder: session }, { expires_at: { $lte: now } }] },
//                    { $set: { holder: session, expires_at: now + lease, … } })
//
// and a slot that was never written is created by insertOne, where the unique _id lets one
// writer win and the others get a duplicate-key error. MongoDB applies a write to one document
// atomically, re-checking the filter against the document it changes, so no two sessions can
// hold one slot at one time, and N slots admit at most N plays, whatever the concurrency and
// on however many gateway replicas. The embedded store gives the same guarantee. No $push, no
// counters to decrement, no transactions, no TTL: a slot whose lease ran out is free by the
// filter alone.

import type { SessionDoc, SessionSlotDoc } from '../store/documents.js'
import type { Collections } from '../store/mongo.js'
import type { ErrorCode } from '../errors.js'
import type { StreamClaims } from '../signing/stream-signature.js'
import { decideLimits } from './decide-limits.js'
import {
  isDuplicateKey, RELEASED, sessionKey, slotId, type SessionCollections
} from './sessions.js'

export type AdmissionCollections = Pick<Collections, 'accounts' | 'tariffs'> & SessionCollections

export interface PlayRequest {
  node: string
  /** The node's patterns: the tariff must include one of them. */
  nodePatterns: readonly string[]
  /** The node's id for the client connection. */
  clientId: string
  /** The verified signature: its owner, camera and format. */
  claims: StreamClaims
}

export interface AdmissionOptions {
  nowMs: number
  leaseMs: number
  /** 'requests': the lease is renewed by the session's own requests (HLS), not by heartbeats. */
  renewedBy?: 'requests'
}

export type Admission =
  | { allowed: true, session: string, slot: string | null, renewed: boolean, expiresAt: Date }
  | { allowed: false, code: ErrorCode, message: string }

export async function admitSession (
  collections: AdmissionCollections, request: PlayRequest, options: AdmissionOptions
): Promise<Admission> {
  const { claims } = request
  const owner = claims.own
  const account = await collections.accounts.findOne({ _id: owner })
  const tariff = account === null ? null : await collections.tariffs.findOne({ _id: account.tariff })
  // The signature names no pattern; the node's own roles stand for it.
  const pattern = request.nodePatterns.find((p) => tariff?.patterns.includes(p) === true) ?? request.nodePatterns[0] ?? 'streaming'
  const verdict = decideLimits({ account, tariff, activeSessions: 0 }, { format: claims.fmt, pattern })
  if (verdict !== null) return { allowed: false, ...verdict }

  const key = sessionKey(request.node, request.clientId)
  const now = new Date(options.nowMs)
  const expiresAt = new Date(options.nowMs + options.leaseMs)
  const max = tariff?.max_concurrent_streams ?? null
  let slot: string | null = null
  if (max !== null) {
    slot = await takeSlot(collections, { owner, key, node: request.node, limit: max, now, expiresAt, renewedBy: options.renewedBy })
    if (slot === null) {
      return { allowed: false, code: 'GW_LIMIT_EXCEEDED', message: `the account is at its limit of ${max} concurrent stream${max === 1 ? '' : 's'}` }
    }
  }

  const [server = '', camera = ''] = splitSubject(claims.sub)
  const before = await upsertSession(collections, key, {
    owner,
    node: request.node,
    client_id: request.clientId,
    server,
    camera,
    format: claims.fmt,
    expires_at: expiresAt,
    slot,
    jti: claims.jti,
    ...(options.renewedBy !== undefined && { renewed_by: options.renewedBy })
  }, now)
  const renewed = before !== null && before.expires_at > now
  if (before !== null && !renewed) await collections.sessions.updateOne({ _id: key }, { $set: { started_at: now } })
  // The client id played before under another owner or tariff: what it held then is over.
  if (before?.slot != null && before.slot !== slot) {
    await collections.slots.updateOne({ _id: before.slot, holder: key }, { $set: { expires_at: RELEASED }, $unset: { holder: '' } })
  }
  return { allowed: true, session: key, slot, renewed, expiresAt }
}

interface SlotRequest {
  owner: string
  key: string
  node: string
  limit: number
  now: Date
  expiresAt: Date
  renewedBy: 'requests' | undefined
}

/** The id of the slot the session now holds, or null when all `limit` are held by others. */
async function takeSlot (collections: SessionCollections, request: SlotRequest): Promise<string | null> {
  const { owner, key, node, limit, now, expiresAt, renewedBy } = request
  const lease = { owner, holder: key, node, expires_at: expiresAt, ...(renewedBy !== undefined && { renewed_by: renewedBy }) }

  // A repeated play of this session renews the slot it holds, and counts once.
  const held = await collections.slots.findOneAndUpdate({ owner, holder: key }, { $set: lease }, { projection: { _id: 1 } })
  if (held !== null) return held._id

  // One read orders the attempts: free slots first, then slots never written; slots another
  // session holds are skipped. The read may be stale; each attempt below decides atomically.
  const known = new Map<string, SessionSlotDoc>()
  for (const doc of await collections.slots.find({ owner }, { projection: { expires_at: 1 } }).toArray()) known.set(doc._id, doc)
  const free: string[] = []
  const unwritten: string[] = []
  for (let k = 0; k < limit; k++) {
    const id = slotId(owner, k)
    const doc = known.get(id)
    if (doc === undefined) unwritten.push(id)
    else if (doc.expires_at <= now) free.push(id)
  }

  const claim = async (id: string): Promise<boolean> => {
    const taken = await collections.slots.findOneAndUpdate(
      { _id: id, $or: [{ holder: key }, { expires_at: { $lte: now } }] },
      { $set: lease },
      { projection: { _id: 1 } }
    )
    return taken !== null
  }
  for (const id of free) {
    if (await claim(id)) return id
  }
  for (const id of unwritten) {
    try {
      await collections.slots.insertOne({ _id: id, ...lease })
      return id
    } catch (err) {
      if (!isDuplicateKey(err)) throw err
      // Written meanwhile: by another session (held), or by a concurrent play of this one.
      if (await claim(id)) return id
    }
  }
  return null
}

type SessionFields = Omit<SessionDoc, '_id' | 'started_at'>

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

function splitSubject (sub: string): [string, string] {
  const slash = sub.indexOf('/')
  return slash < 0 ? [sub, ''] : [sub.slice(0, slash), sub.slice(slash + 1)]
}
