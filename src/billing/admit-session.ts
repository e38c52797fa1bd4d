// The authoritative concurrency check, taken when a node reports a play (docs/design.md section 4).
//
// A play of an owner whose tariff allows N concurrent streams must take one of the owner's N
// slots, with the compare-and-set of take-slot.ts: N slots admit at most N plays, whatever the
// concurrency and on however many gateway replicas. An HLS play names its viewer's address too,
// and first takes one of its grant's address seats (grant-seats.ts), so that a shared URL does
// not start a session for everyone it reaches. A play whose grant names its token's limit
// (max_sessions) takes one of that token's slots too (token-slots.ts), so that a shared token
// feeds no more viewers at once than its limit, whatever its tariff allows.

import type { Collections } from '../store/mongo.js'
import type { ErrorCode } from '../errors.js'
import { sessionOf, type StreamClaims } from '../signing/stream-signature.js'
import { decideLimits } from './decide-limits.js'
import { DEFAULT_ADDRESSES_PER_GRANT, takeGrantSeat } from './grant-seats.js'
import type { SessionEvents } from './session-events.js'
import { recordSession, releaseSlot, sessionFields, type PlayedBy } from './session-record.js'
import { sessionKey, type SessionCollections } from './sessions.js'
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
        message: grantInUseMessage(addresses),
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
      return { allowed: false, code: 'GW_LIMIT_EXCEEDED', message: accountLimitMessage(max) }
    }
  }

  const lease = { now, expiresAt, slot, tokenSlot, renewedBy: options.renewedBy }
  const renewed = await recordSession(collections, key, sessionFields(playedBy(request), lease), lease, options.events)
  return { allowed: true, session: key, slot, tokenSlot, renewed, expiresAt }
}

export function grantInUseMessage (addresses: number): string {
  return `this URL already serves ${addresses === 1 ? 'another viewer address' : `${addresses} other viewer addresses`}; ask the gateway for a URL of your own`
}

export function accountLimitMessage (max: number): string {
  return `the account is at its limit of ${max} concurrent stream${max === 1 ? '' : 's'}`
}

/** What the session document records of a play. */
export function playedBy (request: PlayRequest): PlayedBy {
  const address = request.address ?? request.viewerAddress
  return {
    node: request.node,
    clientId: request.clientId,
    claims: request.claims,
    ...(address !== undefined && { address }),
    ...(request.country !== undefined && { country: request.country })
  }
}
