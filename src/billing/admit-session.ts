// The authoritative concurrency check, taken when a node reports a play (docs/design.md section 4).
//
// A play of an owner whose tariff allows N concurrent streams must take one of the owner's N
// slots, with the compare-and-set of take-slot.ts: N slots admit at most N plays, whatever the
// concurrency and on however many gateway replicas. An HLS play names its viewer's address too,
// and first takes one of its grant's address seats (grant-seats.ts), so that a shared URL does
// not start a session for everyone it reaches. A play whose grant names its token's limit
// (max_sessions) takes one of that token's slots too (token-slots.ts), so that a shared token
// feeds no more viewers at once than its limit, whatever its tariff allows.

import type { SessionDoc } from '../store/documents.js'
import type { Collections } from '../store/mongo.js'
import type { ErrorCode } from '../errors.js'
import { sessionOf, type StreamClaims } from '../signing/stream-signature.js'
import { decideLimits } from './decide-limits.js'
import { DEFAULT_ADDRESSES_PER_GRANT, takeGrantSeat } from './grant-seats.js'
import type { SessionEvents } from './session-events.js'
import { isDuplicateKey, RELEASED, sessionKey, type SessionCollections } from './sessions.js'
import { takeSlot } from './take-slot.js'
import { takeTokenSlot, tokenLimitMessage } from './token-slots.js'

export type AdmissionCollections = Pick<Collections, 'accounts' | 'tariffs'> & SessionCollections

export interface PlayRequest {
  node: string
  /** The node's patterns: the tariff must include one of them. */
  nodePatterns: readonly string[]
  /** The node's id for the client connection. */
  clientId: string
  /**
   * The session's id, when it is not the node's and the client id's (sessionKey): an HLS
   * session is one viewer's at whichever of its pathway nodes it plays (hlsSessionKey).
   */
  key?: string
  /** The verified signature: its owner, camera and format. */
  claims: StreamClaims
  /**
   * The viewer's address, for a play that must hold one of its grant's address seats (HLS):
   * a grant serves at most the tariff's hls_addresses_per_grant addresses.
   */
  viewerAddress?: string
  /** The viewer's address as the node reported it, recorded for the sessions list; default viewerAddress. */
  address?: string
  /** The viewer's country, recorded for the sessions list. */
  country?: string | null
}

export interface AdmissionOptions {
  nowMs: number
  leaseMs: number
  /** 'requests': the lease is renewed by the session's own requests (HLS), not by heartbeats. */
  renewedBy?: 'requests'
  /** Told of the session's start, and of the end of the one its client id held before, if it ran out unnoticed. */
  events?: SessionEvents
}

export type Admission =
  | { allowed: true, session: string, slot: string | null, tokenSlot: string | null, renewed: boolean, expiresAt: Date }
  | { allowed: false, code: ErrorCode, message: string, grantHolders?: string[] }

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

  const key = request.key ?? sessionKey(request.node, request.clientId)
  const now = new Date(options.nowMs)
  const expiresAt = new Date(options.nowMs + options.leaseMs)
  if (request.viewerAddress !== undefined) {
    const addresses = tariff?.hls_addresses_per_grant ?? DEFAULT_ADDRESSES_PER_GRANT
    // Before the stream slot: an address the grant does not serve takes nothing.
    const seat = await takeGrantSeat(collections.slots, {
      grant: sessionOf(claims), address: request.viewerAddress, node: request.node, limit: addresses, now, grantExpiresAt: new Date(claims.exp * 1000)
    })
    if (!seat.taken) {
      return {
        allowed: false,
        code: 'GW_GRANT_IN_USE',
        message: `this URL already serves ${addresses === 1 ? 'another viewer address' : `${addresses} other viewer addresses`}; ask the gateway for a URL of your own`,
        grantHolders: seat.holders
      }
    }
  }
  // The token's own limit (sharing) before the tariff's: a token at its limit takes none of
  // its account's slots, which its other tokens may need.
  let tokenSlot: string | null = null
  if (claims.tms !== undefined && claims.tid !== undefined) {
    tokenSlot = await takeTokenSlot(collections.slots, { tid: claims.tid, limit: claims.tms, holder: key, node: request.node, now, expiresAt, renewedBy: options.renewedBy })
    if (tokenSlot === null) return { allowed: false, code: 'GW_TOKEN_LIMIT', message: tokenLimitMessage(claims.tms) }
  }
  const max = tariff?.max_concurrent_streams ?? null
  let slot: string | null = null
  if (max !== null) {
    slot = await takeSlot(collections.slots, { owner, holder: key, node: request.node, limit: max, now, expiresAt, renewedBy: options.renewedBy })
    if (slot === null) {
      if (tokenSlot !== null) await releaseSlot(collections.slots, tokenSlot, key)
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
    ...(tokenSlot !== null && { token_slot: tokenSlot }),
    jti: claims.jti,
    ...(options.renewedBy !== undefined && { renewed_by: options.renewedBy }),
    ...(claims.tid !== undefined && { tid: claims.tid }),
    ...recordedViewer(request),
    last_seen: now
  }, now)
  const renewed = before !== null && before.expires_at > now
  if (before !== null && !renewed) await collections.sessions.updateOne({ _id: key }, { $set: { started_at: now } })
  // The client id played before under another owner or tariff: what it held then is over.
  if (before?.slot != null && before.slot !== slot) await releaseSlot(collections.slots, before.slot, key)
  if (before?.token_slot !== undefined && before.token_slot !== tokenSlot) {
    await releaseSlot(collections.slots, before.token_slot, key)
    if (tokenSlot === null) await collections.sessions.updateOne({ _id: key }, { $unset: { token_slot: '' } })
  }
  if (!renewed && options.events !== undefined) {
    // The document of a session over by its lease, not yet swept, is taken by this one write
    // alone: its end is told here, once (an ended one was told by whoever ended it).
    if (before !== null && before.ended_at === undefined) options.events.ended(before, 'expired', before.expires_at)
    const session = { _id: key, owner, node: request.node, server, camera, format: claims.fmt, started_at: now }
    options.events.started({ ...session, ...(claims.tid !== undefined && { tid: claims.tid }), ...recordedViewer(request) })
  }
  return { allowed: true, session: key, slot, tokenSlot, renewed, expiresAt }
}

/** Frees a slot the session holds, at once. */
async function releaseSlot (slots: SessionCollections['slots'], id: string, holder: string): Promise<void> {
  await slots.updateOne({ _id: id, holder }, { $set: { expires_at: RELEASED }, $unset: { holder: '' } })
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

/** Who watches, for the sessions list: what the node reported and where it is. */
function recordedViewer (request: PlayRequest): Pick<SessionDoc, 'address' | 'country'> {
  const address = request.address ?? request.viewerAddress
  return {
    ...(address !== undefined && { address }),
    ...(request.country !== undefined && { country: request.country })
  }
}

function splitSubject (sub: string): [string, string] {
  const slash = sub.indexOf('/')
  return slash < 0 ? [sub, ''] : [sub.slice(0, slash), sub.slice(slash + 1)]
}
