// HLS sessions (docs/design.md section 4): a player fetches a playlist and segments for as long as it
// watches, each one checked by GET /verify. The first verified request of a session (the sid the
// grants of one answer share, one grant per pathway node) from one viewer address starts a
// session, admitted against the tariff like an on_play (admitSession, the same `sessions` and
// slot documents, so every replica and every hook counts it). The session goes on while its
// requests keep coming, at whichever of its nodes the viewer fetches from (a player moving to
// another pathway keeps its session and its slot), whatever the grants' exp: exp bounds only
// when a session may start. It ends when its viewer has fetched nothing for idleMs (its
// lease, written with the renewals, runs out: nothing needs to delete it) or maxMs after it
// started. As the lease is renewed at most every renewEveryMs, a gap between requests of up to
// idleMs − renewEveryMs is always forgiven, and one of up to idleMs may be.
//
// Segment checks must stay cheap, so a session this process knows is continued from memory; its
// lease in the store is renewed at most every renewEveryMs (by one request, which waits for the
// write; requests meanwhile do not). A replica that
// does not know a session (nginx spreads /verify over replicas) reads it from the store once and
// then knows it too.
//
// A grant is one viewer's: it starts sessions for one viewer address, or for the few its tariff's
// hls_addresses_per_grant allows (grant-seats.ts, decided in the store, so on every replica
// alike); any other address is refused with GW_GRANT_IN_USE, and starts nothing. A URL shared
// with a crowd would otherwise become a crowd of sessions. Once a replica has been told a grant's
// addresses are all taken, it refuses the others from memory until the grant's exp (the
// addresses cannot change before then). Starts of one grant wait for each other on a replica,
// so that a burst of new addresses learns this from the first refusal: a flood on one URL costs
// the store an admission or two per replica, not one per request.
//
// An operator may end a session, and a revocation or a suspension ends those it feeds
// (src/billing/end-session.ts): the document is marked ended and its lease set to the end. Every
// replica polls for recent ends (src/billing/ended-sessions.ts) and hands them to end(), which
// drops the session from memory and remembers it, so that its next request is refused with
// GW_SESSION_ENDED at once; a replica that missed the poll finds the end at its next renewal or
// read. A warm request still reads only memory.

import { gatewayError, type GatewayError } from '../errors.js'
import type { StreamClaims } from '../signing/stream-signature.js'
import { admitSession, type AdmissionCollections } from './admit-session.js'
import type { SessionEvents } from './session-events.js'
import { sessionOf } from '../signing/stream-signature.js'
import { sessionKey } from './sessions.js'

export interface HlsViewer {
  /** The node serving the stream (X-Geogate-Node). */
  node: string
  /** The viewer's address (X-Real-IP). */
  address: string
}

export type HlsVerdict = { allowed: true } | { allowed: false, error: GatewayError }

export interface HlsSessionsOptions {
  billing: AdmissionCollections
  /** The node's patterns, for the tariff check; read once per session start. */
  nodePatterns: (node: string) => Promise<readonly string[]>
  idleMs: number
  maxMs: number
  /** Default: a third of idleMs, at most 5 s, so a live session's lease never runs out. */
  renewEveryMs?: number
  now: () => number
  /** Told of each store call, for metrics. */
  onStore?: (op: 'read' | 'admit' | 'renew') => void
  /** The viewer's country, recorded with a session it starts; default: not recorded. */
  countryOf?: (address: string) => string | null
  /** Told of each session's start (its end is told where it ends: the sweeper, an operator's end). */
  events?: SessionEvents
}

export interface HlsSessions {
  /**
   * Starts or continues the viewer's session of this grant, whose signature, node and camera
   * are already verified (its exp is not: that is decided here). Throws GW_DEPENDENCY_DOWN
   * when the store fails on a session it must read or admit.
   */
  check: (claims: StreamClaims, viewer: HlsViewer) => Promise<HlsVerdict>
  /**
   * Sessions ended elsewhere (their documents' ids): no longer continued from memory, and
   * refused with GW_SESSION_ENDED from memory for a while after.
   */
  end: (keys: Iterable<string>) => void
  /** Sessions this process holds in memory. */
  readonly size: number
}

interface LiveSession {
  key: string
  /** The node the viewer last fetched from: a viewer moving to another pathway moves it. */
  node: string
  slot: string | null
  /** The token slot it holds, for a token with max_sessions (token-slots.ts). */
  tokenSlot: string | null
  startedAt: number
  /** When the lease last written ends: past it, the slot may be another viewer's. */
  leaseEnd: number
  renewedAt: number
  renewing: boolean
}

const ALLOWED: HlsVerdict = { allowed: true }

/** Grants whose addresses are all taken, remembered at once; beyond it the oldest is forgotten. */
const FULL_GRANTS_MAX = 10_000
/**
 * Ended sessions remembered at once, and for how long: past it, a request of one reads the
 * ended document (kept a minute by the sweeper), or finds none and needs a grant in its exp.
 */
const ENDED_MAX = 100_000
const ENDED_MEMORY_MS = 10 * 60_000

interface FullGrant {
  /** The addresses the grant serves. */
  holders: ReadonlySet<string>
  /** The grant's exp (ms): after it, it starts nothing anyway. */
  until: number
  /** Why the store refused. */
  message: string
}

export function createHlsSessions (options: HlsSessionsOptions): HlsSessions {
  const { billing, idleMs, maxMs, now } = options
  const onStore = options.onStore ?? (() => {})
  const renewEveryMs = options.renewEveryMs ?? Math.min(5000, Math.max(1, Math.floor(idleMs / 3)))
  if (!(renewEveryMs < idleMs)) throw new TypeError('renewEveryMs must be below idleMs, or a live session\'s lease runs out')
  const live = new Map<string, LiveSession>()
  const pending = new Map<string, Promise<HlsVerdict>>()
  const fullGrants = new Map<string, FullGrant>()
  /** Ended sessions, to when they are remembered. */
  const ended = new Map<string, number>()
  /** Per grant, the last start under way: the next waits for it. */
  const grantTurns = new Map<string, Promise<unknown>>()
  let sweptAt = now()

  function goesOn (session: LiveSession, t: number): boolean {
    return t < session.leaseEnd && t - session.startedAt < maxMs
  }

  async function renew (session: LiveSession, t: number): Promise<void> {
    session.renewing = true
    session.renewedAt = t
    onStore('renew')
    const lease = { $set: { expires_at: new Date(t + idleMs) } }
    const alive = { $gt: new Date(t) }
    await Promise.all([
      // An ended session's lease is over: its renewal matches nothing.
      billing.sessions.updateOne({ _id: session.key, expires_at: alive }, { $set: { expires_at: new Date(t + idleMs), last_seen: new Date(t), node: session.node } }),
      session.slot === null ? null : billing.slots.updateOne({ _id: session.slot, holder: session.key, expires_at: alive }, lease),
      session.tokenSlot === null ? null : billing.slots.updateOne({ _id: session.tokenSlot, holder: session.key, expires_at: alive }, lease)
    ]).then(([written]) => {
      if (written.matchedCount > 0) {
        session.leaseEnd = Math.max(session.leaseEnd, t + idleMs)
      } else if (live.get(session.key) === session) {
        // The lease ran out first: the slot may be another viewer's now, so the next request
        // must be admitted again.
        live.delete(session.key)
      }
    }, () => {
      // Retried by the next request; the lease has idleMs − renewEveryMs to spare.
      session.renewedAt = t - renewEveryMs
    }).finally(() => { session.renewing = false })
  }

  function sweep (t: number): void {
    if (t - sweptAt < idleMs) return
    sweptAt = t
    for (const [key, session] of live) if (!goesOn(session, t)) live.delete(key)
    for (const [jti, full] of fullGrants) if (full.until <= t) fullGrants.delete(jti)
    for (const [key, until] of ended) if (until <= t) ended.delete(key)
  }

  function rememberEnded (key: string, t: number): void {
    live.delete(key)
    if (ended.size >= ENDED_MAX && !ended.has(key)) {
      const oldest = ended.keys().next()
      if (oldest.done !== true) ended.delete(oldest.value)
    }
    ended.set(key, t + ENDED_MEMORY_MS)
  }

  function rememberFull (claims: StreamClaims, holders: readonly string[], message: string): void {
    if (fullGrants.size >= FULL_GRANTS_MAX) {
      const oldest = fullGrants.keys().next()
      if (oldest.done !== true) fullGrants.delete(oldest.value)
    }
    fullGrants.set(sessionOf(claims), { holders: new Set(holders), until: claims.exp * 1000, message })
  }

  /** The refusal of an address the grant does not serve, when this replica knows its addresses. */
  function knownTaken (claims: StreamClaims, viewer: HlsViewer, t: number): HlsVerdict | undefined {
    const full = fullGrants.get(sessionOf(claims))
    if (full === undefined || t >= full.until || full.holders.has(viewer.address)) return undefined
    return refuse('GW_GRANT_IN_USE', full.message)
  }

  /** Runs start after the grant's starts already under way on this replica. */
  async function inTurn (jti: string, start: () => HlsVerdict | Promise<HlsVerdict>): Promise<HlsVerdict> {
    const prior = grantTurns.get(jti)
    const turn = (prior ?? Promise.resolve()).then(start)
    const settled = turn.catch(() => {})
    grantTurns.set(jti, settled)
    try {
      return await turn
    } finally {
      if (grantTurns.get(jti) === settled) grantTurns.delete(jti)
    }
  }

  async function resumeOrStart (key: string, clientId: string, claims: StreamClaims, viewer: HlsViewer): Promise<HlsVerdict> {
    const t = now()
    onStore('read')
    const stored = await storeCall(() => billing.sessions.findOne({ _id: key }, { projection: { started_at: 1, expires_at: 1, slot: 1, token_slot: 1, ended_at: 1 } }))
    if ((stored !== null && stored.ended_at !== undefined) || ended.has(key)) {
      rememberEnded(key, t)
      return SESSION_ENDED
    }
    if (stored !== null && stored.expires_at.getTime() > t) {
      const startedAt = stored.started_at.getTime()
      if (t - startedAt >= maxMs) return refuse('GW_TOKEN_INVALID', 'the HLS session has reached its longest duration; ask the gateway for a new URL')
      // Started here or on another replica and still live: this process continues it.
      const session: LiveSession = { key, node: viewer.node, slot: stored.slot, tokenSlot: stored.token_slot ?? null, startedAt, leaseEnd: stored.expires_at.getTime(), renewedAt: 0, renewing: false }
      live.set(key, session)
      await renew(session, t)
      return ALLOWED
    }
    if (Math.floor(t / 1000) >= claims.exp) return refuse('GW_TOKEN_INVALID', 'stream signature rejected: expired before its HLS session started')
    const nodePatterns = await storeCall(() => options.nodePatterns(viewer.node))
    onStore('admit')
    const country = options.countryOf?.(viewer.address)
    const admission = await storeCall(() => admitSession(billing, {
      node: viewer.node,
      nodePatterns,
      clientId,
      key,
      claims,
      viewerAddress: viewer.address,
      ...(country !== undefined && { country })
    }, {
      nowMs: t, leaseMs: idleMs, renewedBy: 'requests', ...(options.events !== undefined && { events: options.events })
    }))
    if (!admission.allowed && admission.code === 'GW_GRANT_IN_USE') {
      rememberFull(claims, admission.grantHolders ?? [], admission.message)
      return refuse('GW_GRANT_IN_USE', admission.message)
    }
    // nginx's auth_request passes on only 401 and 403; a billing refusal is a 403 naming why.
    if (!admission.allowed) return refuse('GW_FORBIDDEN', `${admission.message} (${admission.code})`)
    live.set(key, { key, node: viewer.node, slot: admission.slot, tokenSlot: admission.tokenSlot, startedAt: t, leaseEnd: t + idleMs, renewedAt: t, renewing: false })
    return ALLOWED
  }

  return {
    async check (claims, viewer) {
      const sid = sessionOf(claims)
      const clientId = `hls/${sid}/${viewer.address}`
      const key = hlsSessionKey(sid, viewer.address)
      const t = now()
      const session = live.get(key)
      if (session !== undefined && goesOn(session, t)) {
        // One request in renewEveryMs waits for the write; the others go by from memory. A viewer
        // that moved to another of its pathways goes on in the same session, which is told at once
        // where it now plays.
        const moved = session.node !== viewer.node
        if (moved) session.node = viewer.node
        if (!session.renewing && (moved || t - session.renewedAt >= renewEveryMs)) await renew(session, t)
        return ALLOWED
      }
      sweep(t)
      if (ended.has(key)) return SESSION_ENDED
      const known = knownTaken(claims, viewer, t)
      if (known !== undefined) return known
      // A playlist and its segments arrive together: one store read for all of them.
      let decided = pending.get(key)
      if (decided === undefined) {
        decided = inTurn(sid, () => knownTaken(claims, viewer, now()) ?? resumeOrStart(key, clientId, claims, viewer))
          .finally(() => pending.delete(key))
        pending.set(key, decided)
      }
      return await decided
    },
    end (keys) {
      const t = now()
      for (const key of keys) rememberEnded(key, t)
    },
    get size () { return live.size }
  }
}

/**
 * The id of an HLS session: one viewer address of one session id, at whichever node it plays
 * (the grants of one answer, one per pathway node, share the sid). '*' is no node id, so the key
 * never meets a play's sessionKey(node, client id).
 */
export function hlsSessionKey (sid: string, address: string): string {
  return sessionKey('*', `hls/${sid}/${address}`)
}

const SESSION_ENDED: HlsVerdict = { allowed: false, error: gatewayError('GW_SESSION_ENDED', 'this HLS session was ended; ask the gateway for a new URL if you may still watch') }

function refuse (code: 'GW_TOKEN_INVALID' | 'GW_FORBIDDEN' | 'GW_GRANT_IN_USE', message: string): HlsVerdict {
  return { allowed: false, error: gatewayError(code, message) }
}

async function storeCall<T> (call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (err) {
    throw gatewayError('GW_DEPENDENCY_DOWN', 'the session store is unreachable', { cause: err })
  }
}
