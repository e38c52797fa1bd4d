// HLS sessions (docs/design.md section 4): a player fetches a playlist and segments for as long as it
// watches, each one checked by GET /verify. The first verified request of a session (the sid the
// grants of one answer share, one grant per pathway node) from one viewer address starts a
// session, admitted against the tariff like an on_play (admitSession, the same `sessions` and
// slot documents, so every replica and every hook counts it). The session goes on while its
// requests keep coming, at whichever of its nodes the viewer fetches from (a player moving to
// another pathway keeps its session and its slot), whatever the grants' exp: exp bounds only
// when a session may start. It ends when its viewer has fetched nothing for idleMs (its
// lease, written with the renewals, runs out: nothing needs to delete it) or maxMs after it
// started.
//
// Segment checks must stay cheap: no request waits on a store write once its session has
// started. A session this process knows is continued from memory: its request marks it seen
// and is answered at once. Its lease is written behind the requests: a flush, every
// renewEveryMs (started after the first request that finds one due, else by a timer that
// never keeps the process alive), renews every session seen since the last in a few store
// calls whatever their number: one updateMany of the session documents per lease end (and per
// node a viewer moved to), one of their slots and token slots per lease end. A lease ends
// idleMs after its viewer's last request rounded down to renewEveryMs, so a flush writes one
// or two lease ends; a gap between requests of up to idleMs − renewEveryMs is always forgiven,
// and one of up to idleMs may be. Each warm session had cost two or three awaited writes every
// renewEveryMs (its document, its slot, its token slot) and its request the wait: at 1,000
// sessions those writes queued on the embedded store and checks waited over a second. A flush
// writes a hundred sessions' leases in two writes (0.24 writes per session per minute, from 24).
//
// A flush that renews fewer documents than it meant to reads which: an ended one is refused
// from then on (GW_SESSION_ENDED), one whose lease ran out (its slot may be another viewer's)
// is admitted again at its next request. A flush the store fails is counted and retried by the
// next with what was seen since: the lease has several flushes to spare, and no request fails
// for it. A flush runs under its own deadline (renewalCollections), not a request's: renewing
// 5,000 leases in one write takes the embedded store over a second, which a request's 1 s
// deadline turned into failed flushes, expired leases and viewers admitted again. Only a session whose lease ran out in memory while a flush is under way waits for
// that flush (a store slower than the lease's margin), rather than read the store behind its
// own write. Two replicas that both serve a viewer (nginx spreads /verify over replicas) both
// renew it; the last write wins, each at most renewEveryMs behind the viewer. A replica that
// does not know a session reads it from the store once and then knows it too.
//
// Sessions start in batches: the first requests of sessions this process does not hold that
// come while a batch is read and admitted go together in the next, one read of their documents
// and admit-new-sessions.ts for the new ones (a read of their accounts, tariffs and slots, one
// write of their seats and slots, one of their documents). The embedded store pays for a write
// in proportion to the square of the collection it writes, one document or a thousand: started
// one by one, 32 at a time, sessions started at 8 a second with none live and at 1 a second
// with 750 live; in batches, at about 350 and 200 a second with none and with 1,000 live. A
// batch's sessions and slots go through renewalCollections, under the flush's deadline: its one
// insert into thousands of slots takes the embedded store over a second, which a request's
// deadline would fail (and count against the store's breaker) while the insert still lands.
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
// GW_SESSION_ENDED at once; a replica that missed the poll finds the end at its next flush or
// read. A warm request still reads only memory.

import { gatewayError, type GatewayError } from '../errors.js'
import type { StreamClaims } from '../signing/stream-signature.js'
import { createBatchQueue } from '../store/batch-queue.js'
import { countWrites } from '../store/counted-writes.js'
import type { SessionDoc } from '../store/documents.js'
import { admitSession, type Admission, type AdmissionCollections, type PlayRequest } from './admit-session.js'
import { admitNewSessions } from './admit-new-sessions.js'
import type { SessionEvents } from './session-events.js'
import { sessionOf } from '../signing/stream-signature.js'
import { sessionKey, type SessionCollections } from './sessions.js'

export interface HlsViewer {
  /** The node serving the stream (X-Geogate-Node). */
  node: string
  /** The viewer's address (X-Real-IP). */
  address: string
}

export type HlsVerdict = { allowed: true } | { allowed: false, error: GatewayError }

/**
 * A store call of HLS sessions: a read (of a session this process did not know, or of the
 * sessions a flush renewed fewer of than it meant to), an admission, a flush of renewals (one
 * however many sessions it renews), or a flush the store failed (retried by the next).
 */
export type HlsStoreCall = 'read' | 'admit' | 'renew' | 'renew-failed'

export interface HlsSessionsOptions {
  billing: AdmissionCollections
  /**
   * The collections the write-behind flush and the batches of starts write and read through;
   * default billing's. Neither is one request's work, and either may take longer than a
   * request's query deadline: a flush of thousands of leases, or a batch's write of its seats
   * into a collection of thousands of slots, takes the embedded store over a second.
   */
  renewalCollections?: SessionCollections
  /** The node's patterns, for the tariff check; read once per session start. */
  nodePatterns: (node: string) => Promise<readonly string[]>
  idleMs: number
  maxMs: number
  /** How often the seen sessions' leases are written. Default: a third of idleMs, at most 5 s. */
  renewEveryMs?: number
  now: () => number
  /** Told of each store call, for metrics. */
  onStore?: (call: HlsStoreCall) => void
  /** Told of each write command sent to the store: by an admission, or by a flush of renewals. */
  onStoreWrite?: (op: 'admit' | 'renew') => void
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
  /**
   * Writes now the renewals of every session seen so far, after the flush under way if any.
   * Never throws: a failed flush is told to onStore and its sessions wait for the next.
   */
  flush: () => Promise<void>
  /** Stops the timer and writes the last renewals (shutdown). */
  close: () => Promise<void>
  /** Sessions this process holds in memory. */
  readonly size: number
}

interface LiveSession {
  key: string
  /** The node the viewer last fetched from: a viewer moving to another pathway moves it. */
  node: string
  /** The node the stored document names, as this process last wrote or read it. */
  storedNode: string | undefined
  slot: string | null
  /** The token slot it holds, for a token with max_sessions (token-slots.ts). */
  tokenSlot: string | null
  startedAt: number
  /** When the lease last written ends: past it, the slot may be another viewer's. */
  leaseEnd: number
  /** Its latest request not yet written behind; null: none (it is not in the flush queue). */
  seenAt: number | null
}

/** One session's renewal in a flush. */
interface Renewal {
  session: LiveSession
  seenAt: number
  lease: number
  /** The node to write: the viewer moved since the document last named one. */
  node: string | undefined
}

const ALLOWED: HlsVerdict = { allowed: true }

/** A request of a session this process does not hold. */
interface Start {
  key: string
  clientId: string
  claims: StreamClaims
  viewer: HlsViewer
}

/** A start the store failed: the request is answered with it. */
interface StoreFailure {
  failure: GatewayError
}

/** What a start reads of its session's document. */
const STORED = { started_at: 1, expires_at: 1, slot: 1, token_slot: 1, ended_at: 1, node: 1 } as const
type StoredSession = Pick<SessionDoc, '_id' | 'started_at' | 'expires_at' | 'slot' | 'token_slot' | 'ended_at' | 'node'>

/**
 * Most starts in one batch. Its reads match each document against every key of the batch (the
 * embedded store has no index for an $in), so a batch costs the store a little more per start
 * the larger it is; its writes cost the same whatever its size.
 */
const START_BATCH_MAX = 1000

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
  const { idleMs, maxMs, now } = options
  const onStore = options.onStore ?? (() => {})
  const onStoreWrite = options.onStoreWrite
  const renewEveryMs = options.renewEveryMs ?? Math.min(5000, Math.max(1, Math.floor(idleMs / 3)))
  if (!(Number.isInteger(renewEveryMs) && renewEveryMs > 0)) throw new TypeError('renewEveryMs must be a positive integer')
  if (!(renewEveryMs < idleMs)) throw new TypeError('renewEveryMs must be below idleMs, or a live session\'s lease runs out')
  const billing = options.billing
  const flushStore = options.renewalCollections ?? billing
  // A batch of starts reads and writes the sessions and slots as a flush does (its accounts
  // and tariffs are small reads). Its writes are counted as they go: an admission alone takes
  // many small steps in admit-session.ts.
  const startStore: AdmissionCollections = { ...billing, sessions: flushStore.sessions, slots: flushStore.slots }
  const admitting: AdmissionCollections = onStoreWrite === undefined
    ? startStore
    : { ...startStore, sessions: countWrites(startStore.sessions, () => onStoreWrite('admit')), slots: countWrites(startStore.slots, () => onStoreWrite('admit')) }
  const live = new Map<string, LiveSession>()
  const pending = new Map<string, Promise<HlsVerdict>>()
  const fullGrants = new Map<string, FullGrant>()
  /** Ended sessions, to when they are remembered. */
  const ended = new Map<string, number>()
  /** Per grant, the last start under way: the next waits for it. */
  const grantTurns = new Map<string, Promise<unknown>>()
  let sweptAt = now()
  /** The sessions seen since the last flush took them. */
  let queued: LiveSession[] = []
  let flushing: Promise<void> | undefined
  let lastFlushAt = now()
  let timer: NodeJS.Timeout | undefined
  let flushSoon = false
  let closed = false

  function goesOn (session: LiveSession, t: number): boolean {
    return t < session.leaseEnd && t - session.startedAt < maxMs
  }

  function due (t: number): boolean {
    return flushing === undefined && queued.length > 0 && t - lastFlushAt >= renewEveryMs
  }

  /** A request of the session: its lease is written by the next flush, nobody waits for it. */
  function seen (session: LiveSession, t: number): void {
    if (session.seenAt === null) queued.push(session)
    session.seenAt = Math.max(session.seenAt ?? t, t)
    if (due(t) && !flushSoon) {
      // After this request's answer: the flush's own work is no request's either.
      flushSoon = true
      setImmediate(() => {
        flushSoon = false
        if (due(now())) void flush()
      })
    } else {
      schedule()
    }
  }

  /** The timer that flushes when requests stop coming; off while nothing is queued. */
  function schedule (): void {
    if (timer !== undefined || closed || flushing !== undefined || queued.length === 0) return
    const wait = Math.min(renewEveryMs, Math.max(1, lastFlushAt + renewEveryMs - now()))
    timer = setTimeout(() => {
      timer = undefined
      if (due(now())) void flush()
      else schedule()
    }, wait)
    timer.unref()
  }

  async function flush (): Promise<void> {
    // The one under way first (and any that started meanwhile).
    for (let under = flushing; under !== undefined; under = flushing) await under
    if (queued.length === 0) return
    flushing = writeRenewals().finally(() => {
      flushing = undefined
      schedule()
    })
    await flushing
  }

  /** Writes the renewals of the queued sessions; a failure leaves them queued for the next flush. */
  async function writeRenewals (): Promise<void> {
    const t = now()
    lastFlushAt = t
    const renewals = takeQueued(t)
    if (renewals.length === 0) return
    onStore('renew')
    try {
      const matched = await sendRenewals(renewals, t)
      const stored = matched < renewals.length ? await readRenewed(renewals) : undefined
      for (const { session, lease, node } of renewals) {
        if (live.get(session.key) !== session) continue
        const state = stored === undefined ? lease : stored.get(session.key)
        if (state === 'ended') {
          rememberEnded(session.key, t)
        } else if (state === undefined || state <= t) {
          // The lease ran out first: the slot may be another viewer's now, so the next request
          // must be admitted again.
          live.delete(session.key)
        } else {
          session.leaseEnd = Math.max(session.leaseEnd, state)
          if (node !== undefined) session.storedNode = node
        }
      }
    } catch {
      onStore('renew-failed')
      for (const { session, seenAt } of renewals) {
        if (live.get(session.key) !== session) continue
        if (session.seenAt === null) queued.push(session)
        session.seenAt = Math.max(session.seenAt ?? seenAt, seenAt)
      }
    }
  }

  /** Empties the queue into the renewals it needs: those that raise a lease or move a node. */
  function takeQueued (t: number): Renewal[] {
    const renewals: Renewal[] = []
    for (const session of queued) {
      const seenAt = session.seenAt as number
      session.seenAt = null
      if (live.get(session.key) !== session) continue
      // Never shorter than the lease this process knows of (an admission's, a read one), and
      // never one over already (a request seen before a long outage): that would shorten
      // another replica's renewal of it.
      const lease = Math.max(Math.floor(seenAt / renewEveryMs) * renewEveryMs + idleMs, session.leaseEnd)
      const node = session.node !== session.storedNode ? session.node : undefined
      if (lease > t && (lease > session.leaseEnd || node !== undefined)) renewals.push({ session, seenAt, lease, node })
    }
    queued = []
    return renewals
  }

  /**
   * One write of the session documents per lease end (and node moved to), one of their slots
   * and token slots per lease end, all at once; how many session documents they renewed.
   */
  async function sendRenewals (renewals: readonly Renewal[], t: number): Promise<number> {
    const alive = { $gt: new Date(t) }
    const byLease = new Map<number, Map<string | undefined, Renewal[]>>()
    for (const renewal of renewals) {
      let byNode = byLease.get(renewal.lease)
      if (byNode === undefined) byLease.set(renewal.lease, byNode = new Map())
      let group = byNode.get(renewal.node)
      if (group === undefined) byNode.set(renewal.node, group = [])
      group.push(renewal)
    }
    const writes: Array<Promise<number>> = []
    for (const [lease, byNode] of byLease) {
      const expiresAt = new Date(lease)
      const slots: string[] = []
      const holders: string[] = []
      for (const [node, group] of byNode) {
        // When its viewer was last seen: the earliest of the group, never later than the truth.
        let lastSeen = Infinity
        for (const { session, seenAt } of group) {
          lastSeen = Math.min(lastSeen, seenAt)
          holders.push(session.key)
          if (session.slot !== null) slots.push(session.slot)
          if (session.tokenSlot !== null) slots.push(session.tokenSlot)
        }
        onStoreWrite?.('renew')
        // An ended session carries ended_at (and its lease is over): its renewal matches nothing.
        writes.push(flushStore.sessions.updateMany(
          { _id: { $in: group.map((r) => r.session.key) }, expires_at: alive, ended_at: { $exists: false } },
          { $set: { expires_at: expiresAt, last_seen: new Date(lastSeen), ...(node !== undefined && { node }) } }
        ).then((answer) => answer.matchedCount))
      }
      if (slots.length === 0) continue
      onStoreWrite?.('renew')
      // By id and holder: a slot that went to another session is not this one's to renew.
      writes.push(flushStore.slots.updateMany({ _id: { $in: slots }, holder: { $in: holders }, expires_at: alive }, { $set: { expires_at: expiresAt } }).then(() => 0))
    }
    return (await Promise.all(writes)).reduce((sum, n) => sum + n, 0)
  }

  /** Of sessions a flush did not renew all of, each one's stored lease end, or 'ended'; none: gone. */
  async function readRenewed (renewals: readonly Renewal[]): Promise<Map<string, number | 'ended'>> {
    onStore('read')
    const docs = await flushStore.sessions.find({ _id: { $in: renewals.map((r) => r.session.key) } }, { projection: { expires_at: 1, ended_at: 1 } }).toArray()
    return new Map(docs.map((doc) => [doc._id, doc.ended_at !== undefined ? 'ended' : doc.expires_at.getTime()]))
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

  /**
   * The first requests of sessions this process does not hold, resumed from the store or
   * started: those that come while one batch is read and admitted go together in the next
   * (admit-new-sessions.ts), so that a crowd of new viewers costs the store a few commands per
   * batch, not several per viewer, and a slower store makes larger batches. Once a batch's
   * slots are written, the next batch begins beside its write of the session documents.
   */
  const starts = createBatchQueue<Start, HlsVerdict | StoreFailure>({ maxBatch: START_BATCH_MAX, run: startBatch })

  async function resumeOrStart (start: Start): Promise<HlsVerdict> {
    const answer = await starts(start)
    if ('failure' in answer) throw answer.failure
    return answer
  }

  async function startBatch (batch: Start[], release: () => void): Promise<Array<HlsVerdict | StoreFailure>> {
    const t = now()
    onStore('read')
    const stored = new Map<string, StoredSession>()
    const keys = batch.map((start) => start.key)
    for (const doc of await storeCall(() => startStore.sessions.find({ _id: { $in: keys } }, { projection: STORED }).toArray())) stored.set(doc._id, doc)
    const answers: Array<HlsVerdict | StoreFailure | undefined> = batch.map((start) => resume(start, stored.get(start.key), t))
    const starting = batch.filter((_, i) => answers[i] === undefined)
    if (starting.length > 0) {
      const admitted = await admitStarts(starting, stored, t, release)
      for (const [i, start] of batch.entries()) {
        if (answers[i] === undefined) answers[i] = admitted.get(start) as HlsVerdict | StoreFailure
      }
    }
    return answers as Array<HlsVerdict | StoreFailure>
  }

  /** Admits the starts of a batch that need it: the new ones together, the others alone. */
  async function admitStarts (starting: Start[], stored: ReadonlyMap<string, StoredSession>, t: number, slotsWritten: () => void): Promise<Map<Start, HlsVerdict | StoreFailure>> {
    const answers = new Map<Start, HlsVerdict | StoreFailure>()
    const failed = (err: unknown): StoreFailure => ({ failure: storeFailure(err) })
    const patterns = new Map<string, readonly string[] | StoreFailure>()
    for (const node of new Set(starting.map((start) => start.viewer.node))) {
      patterns.set(node, await options.nodePatterns(node).catch(failed))
    }
    const requests = new Map<Start, PlayRequest>()
    for (const start of starting) {
      const { key, clientId, claims, viewer } = start
      const nodePatterns = patterns.get(viewer.node) ?? []
      if ('failure' in nodePatterns) {
        answers.set(start, nodePatterns)
        continue
      }
      onStore('admit')
      const country = options.countryOf?.(viewer.address)
      requests.set(start, { node: viewer.node, nodePatterns, clientId, key, claims, viewerAddress: viewer.address, ...(country !== undefined && { country }) })
    }
    const admission = { nowMs: t, leaseMs: idleMs, renewedBy: 'requests' as const, ...(options.events !== undefined && { events: options.events }) }
    // A session whose document is there, its lease over, is admitted alone: its end is told
    // and what it held given back (admitSession).
    const fresh = [...requests.keys()].filter((start) => !stored.has(start.key))
    try {
      const admitted = await admitNewSessions(admitting, fresh.map((start) => requests.get(start) as PlayRequest), admission, slotsWritten)
      fresh.forEach((start, i) => answers.set(start, started(start, admitted[i] as Admission, t)))
    } catch (err) {
      for (const start of fresh) answers.set(start, failed(err))
    }
    for (const [start, request] of requests) {
      if (answers.has(start)) continue
      try {
        answers.set(start, started(start, await admitSession(admitting, request, admission), t))
      } catch (err) {
        answers.set(start, failed(err))
      }
    }
    return answers
  }

  /** A start whose session is in the store (or ended, or too late to start): its verdict; undefined: to admit. */
  function resume ({ key, claims, viewer }: Start, stored: StoredSession | undefined, t: number): HlsVerdict | undefined {
    if ((stored !== undefined && stored.ended_at !== undefined) || ended.has(key)) {
      rememberEnded(key, t)
      return SESSION_ENDED
    }
    if (stored !== undefined && stored.expires_at.getTime() > t) {
      const startedAt = stored.started_at.getTime()
      if (t - startedAt >= maxMs) return refuse('GW_TOKEN_INVALID', 'the HLS session has reached its longest duration; ask the gateway for a new URL')
      // Started here or on another replica and still live: this process continues it, and
      // renews it with the others it has seen.
      const session: LiveSession = {
        key, node: viewer.node, storedNode: stored.node, slot: stored.slot, tokenSlot: stored.token_slot ?? null, startedAt, leaseEnd: stored.expires_at.getTime(), seenAt: null
      }
      live.set(key, session)
      seen(session, t)
      return ALLOWED
    }
    if (Math.floor(t / 1000) >= claims.exp) return refuse('GW_TOKEN_INVALID', 'stream signature rejected: expired before its HLS session started')
    return undefined
  }

  function started ({ key, claims, viewer }: Start, admission: Admission, t: number): HlsVerdict {
    if (!admission.allowed && admission.code === 'GW_GRANT_IN_USE') {
      rememberFull(claims, admission.grantHolders ?? [], admission.message)
      return refuse('GW_GRANT_IN_USE', admission.message)
    }
    // nginx's auth_request passes on only 401 and 403; a billing refusal is a 403 naming why.
    if (!admission.allowed) return refuse('GW_FORBIDDEN', `${admission.message} (${admission.code})`)
    live.set(key, {
      key, node: viewer.node, storedNode: viewer.node, slot: admission.slot, tokenSlot: admission.tokenSlot, startedAt: t, leaseEnd: t + idleMs, seenAt: null
    })
    return ALLOWED
  }

  return {
    async check (claims, viewer) {
      const sid = sessionOf(claims)
      const clientId = `hls/${sid}/${viewer.address}`
      const key = hlsSessionKey(sid, viewer.address)
      let t = now()
      let session = live.get(key)
      if (session !== undefined && !goesOn(session, t) && flushing !== undefined) {
        // Its lease ran out in memory while a flush that may renew it is under way (a store
        // slower than the lease's margin): the store read below would race that write.
        await flushing
        t = now()
        session = live.get(key)
      }
      if (session !== undefined && goesOn(session, t)) {
        // From memory: the lease, and the node of a viewer that moved to another of its
        // pathways, are written behind by the next flush.
        session.node = viewer.node
        seen(session, t)
        return ALLOWED
      }
      sweep(t)
      if (ended.has(key)) return SESSION_ENDED
      const known = knownTaken(claims, viewer, t)
      if (known !== undefined) return known
      // A playlist and its segments arrive together: one store read for all of them.
      let decided = pending.get(key)
      if (decided === undefined) {
        decided = inTurn(sid, () => knownTaken(claims, viewer, now()) ?? resumeOrStart({ key, clientId, claims, viewer }))
          .finally(() => pending.delete(key))
        pending.set(key, decided)
      }
      return await decided
    },
    end (keys) {
      const t = now()
      for (const key of keys) rememberEnded(key, t)
    },
    flush,
    async close () {
      closed = true
      clearTimeout(timer)
      timer = undefined
      await flush()
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
    throw storeFailure(err)
  }
}

function storeFailure (err: unknown): GatewayError {
  return gatewayError('GW_DEPENDENCY_DOWN', 'the session store is unreachable', { cause: err })
}
