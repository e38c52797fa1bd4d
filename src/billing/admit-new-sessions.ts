// Many plays admitted together, each as admit-session.ts would admit it alone, in a few store
// commands for all of them: a read of their accounts, one of their tariffs and one of the slots
// their grants, tokens and accounts have; then one write of every seat and slot they take and
// one of their session documents. HLS viewers start this way (hls-sessions.ts gathers the
// starts that come while a batch is written).
//
// Why: the embedded store pays for each write command in proportion to the square of the
// collection it writes, whatever the number of documents the command carries: 17 ms of its CPU
// at 1,000 documents, 0.3 s at 4,000, 1.3 s at 8,000. An admission alone writes a seat, a slot
// or two and a session document, three or four such commands, and concurrent admissions of one
// account fought over the same slots, a failed insert and a failed claim each per loser: 1,000
// HLS starts 32 at a time made 15 slot writes per start, and fell from 8 starts a second to
// one as the sessions grew. In a batch, the slots each play takes are chosen in memory from the
// one read (slot-plan.ts), distinct within the batch, and written by one insert: a slot whose
// lease is over is deleted first (a delete costs the store little) and written anew.
//
// The limits stay exact as take-slot.ts keeps them: a slot is written only where none is (the
// unique _id decides between writers) or where the one there is free (the delete re-checks
// its lease). When another replica took one of the planned slots since the read, the insert
// fails (on the embedded store, all of it; on MongoDB, the taken ones), and each play of the
// batch that wrote is admitted alone by admitSession, which keeps what it already holds.
// A play alone, or one whose holder already has a slot, is admitted by admitSession as well.

import type { AccountDoc, SessionSlotDoc, TariffDoc } from '../store/documents.js'
import { sessionOf } from '../signing/stream-signature.js'
import { accountLimitMessage, admitSession, grantInUseMessage, playedBy, type Admission, type AdmissionCollections, type AdmissionOptions, type PlayRequest } from './admit-session.js'
import { decideLimits } from './decide-limits.js'
import { DEFAULT_ADDRESSES_PER_GRANT, grantSeatOwner, seatAddresses, seatHolder } from './grant-seats.js'
import { newSessionDoc, recordSession, sessionFields, tellStarted, type SessionLease } from './session-record.js'
import { isDuplicateKey, sessionKey } from './sessions.js'
import { planSlots, type PlannedSlot, type SlotPlan, type SlotWant } from './slot-plan.js'
import { tokenLimitMessage, tokenSlotOwner } from './token-slots.js'

type Kind = 'seat' | 'token' | 'account'

/** One take of a play: which slots, for whom, with which lease. */
interface Take extends SlotWant {
  kind: Kind
  lease: Date
}

/** A slot a play of the batch writes. */
interface PlannedTake extends PlannedSlot {
  kind: Kind
  holder: string
  lease: Date
}

/** What a play of the batch writes. */
interface Planned {
  index: number
  key: string
  node: string
  slots: PlannedTake[]
  /** Admitted: its session's lease; refused by a limit after its seat: undefined. */
  lease?: SessionLease
}

/**
 * Admits plays whose sessions have no document yet (the caller read them), in their order:
 * one answer each. A session written meanwhile is found by the insert and upserted alone.
 * slotsWritten is told once the batch's slots are written: what it does next writes session
 * documents, beside which another batch may read and write slots.
 */
export async function admitNewSessions (
  collections: AdmissionCollections, requests: readonly PlayRequest[], options: AdmissionOptions, slotsWritten?: () => void
): Promise<Admission[]> {
  if (requests.length === 1) return [await admitSession(collections, requests[0] as PlayRequest, options)]
  const now = new Date(options.nowMs)
  const expiresAt = new Date(options.nowMs + options.leaseMs)
  const answers: Array<Admission | undefined> = requests.map(() => undefined)
  /** Admitted alone once the batch is written. */
  const alone = new Set<number>()

  const limits = await readLimits(collections, requests)
  const plays: Array<{ index: number, key: string, takes: Take[] }> = []
  const keys = new Set<string>()
  requests.forEach((request, index) => {
    const { claims } = request
    const key = request.key ?? sessionKey(request.node, request.clientId)
    // The same session twice: the second finds what the first wrote.
    if (keys.has(key)) {
      alone.add(index)
      return
    }
    keys.add(key)
    const account = limits.accounts.get(claims.own) ?? null
    const tariff = account === null ? null : limits.tariffs.get(account.tariff) ?? null
    // The signature names no pattern; the node's own roles stand for it.
    const pattern = request.nodePatterns.find((p) => tariff?.patterns.includes(p) === true) ?? request.nodePatterns[0] ?? 'streaming'
    const verdict = decideLimits({ account, tariff, activeSessions: 0 }, { format: claims.fmt, pattern })
    if (verdict !== null) {
      answers[index] = { allowed: false, ...verdict }
      return
    }
    // admitSession's order: the address's seat, the token's limit, the tariff's.
    const takes: Take[] = []
    if (request.viewerAddress !== undefined) {
      const limit = tariff?.hls_addresses_per_grant ?? DEFAULT_ADDRESSES_PER_GRANT
      takes.push({ kind: 'seat', owner: grantSeatOwner(sessionOf(claims)), holder: seatHolder(request.viewerAddress), limit, lease: new Date(claims.exp * 1000) })
    }
    if (claims.tms !== undefined && claims.tid !== undefined) takes.push({ kind: 'token', owner: tokenSlotOwner(claims.tid), holder: key, limit: claims.tms, lease: expiresAt })
    const max = tariff?.max_concurrent_streams ?? null
    if (max !== null) takes.push({ kind: 'account', owner: claims.own, holder: key, limit: max, lease: expiresAt })
    plays.push({ index, key, takes })
  })

  const owners = [...new Set(plays.flatMap((play) => play.takes.map((take) => take.owner)))]
  const known = owners.length === 0 ? [] : await collections.slots.find({ owner: { $in: owners } }, { projection: { owner: 1, holder: 1, expires_at: 1 } }).toArray()
  const plan = planSlots(known, now)
  const planned: Planned[] = []
  for (const { index, key, takes } of plays) {
    const request = requests[index] as PlayRequest
    const slots: PlannedTake[] = []
    let refused: Take | undefined
    let held = false
    for (const take of takes) {
      const choice = plan.take(take)
      if (choice === 'held') held = true
      else if (choice === null) refused = take
      else slots.push({ ...choice, kind: take.kind, holder: take.holder, lease: take.lease })
      if (choice === null || choice === 'held') break
    }
    if (held) {
      for (const slot of slots) plan.giveBack(slot)
      alone.add(index)
      continue
    }
    if (refused !== undefined) {
      // The seat stays the address's whatever the limits say, as when admitted alone.
      for (const slot of slots.filter((slot) => slot.kind !== 'seat')) plan.giveBack(slot)
      const seats = slots.filter((slot) => slot.kind === 'seat')
      if (seats.length > 0) planned.push({ index, key, node: request.node, slots: seats })
      answers[index] = refusal(refused, plan)
      continue
    }
    const slotOf = (kind: Kind): string | null => slots.find((slot) => slot.kind === kind)?.id ?? null
    const lease = { now, expiresAt, slot: slotOf('account'), tokenSlot: slotOf('token'), renewedBy: options.renewedBy }
    planned.push({ index, key, node: request.node, slots, lease })
  }

  await writeSlots(collections, planned, now, options, alone)
  slotsWritten?.()
  await writeSessions(collections, requests, planned.filter((p) => !alone.has(p.index)), answers, options)
  for (const index of alone) answers[index] = await admitSession(collections, requests[index] as PlayRequest, options)
  return answers.map((answer) => {
    if (answer === undefined) throw new Error('a play of the batch was not decided')
    return answer
  })
}

/** Why a take found no slot, as admitSession says it. */
function refusal (take: Take, plan: SlotPlan): Admission {
  switch (take.kind) {
    case 'seat': return { allowed: false, code: 'GW_GRANT_IN_USE', message: grantInUseMessage(take.limit), grantHolders: seatAddresses(plan.holders(take.owner)) }
    case 'token': return { allowed: false, code: 'GW_TOKEN_LIMIT', message: tokenLimitMessage(take.limit) }
    case 'account': return { allowed: false, code: 'GW_LIMIT_EXCEEDED', message: accountLimitMessage(take.limit) }
  }
}

/** The accounts of the plays and their tariffs: one read each. */
async function readLimits (collections: AdmissionCollections, requests: readonly PlayRequest[]): Promise<{ accounts: Map<string, AccountDoc>, tariffs: Map<string, TariffDoc> }> {
  const owners = [...new Set(requests.map((request) => request.claims.own))]
  const accounts = new Map<string, AccountDoc>()
  for (const doc of await collections.accounts.find({ _id: { $in: owners } }).toArray()) accounts.set(doc._id, doc)
  const ids = [...new Set([...accounts.values()].map((doc) => doc.tariff))]
  const tariffs = new Map<string, TariffDoc>()
  if (ids.length > 0) for (const doc of await collections.tariffs.find({ _id: { $in: ids } }).toArray()) tariffs.set(doc._id, doc)
  return { accounts, tariffs }
}

/**
 * Every planned seat and slot in one insert, those whose lease was over deleted first. When the
 * store refuses one (another replica took it), the plays that wrote are admitted alone.
 */
async function writeSlots (collections: AdmissionCollections, planned: readonly Planned[], now: Date, options: AdmissionOptions, alone: Set<number>): Promise<void> {
  const docs: SessionSlotDoc[] = []
  const reused: string[] = []
  for (const play of planned) {
    for (const slot of play.slots) {
      if (slot.reuse) reused.push(slot.id)
      // A seat's lease is its grant's exp, and no node's heartbeat renews it.
      const renewedBy = slot.kind === 'seat' ? 'requests' : options.renewedBy
      docs.push({ _id: slot.id, owner: slot.owner, holder: slot.holder, node: play.node, expires_at: slot.lease, ...(renewedBy !== undefined && { renewed_by: renewedBy }) })
    }
  }
  if (docs.length === 0) return
  try {
    if (reused.length > 0) await collections.slots.deleteMany({ _id: { $in: reused }, expires_at: { $lte: now } })
    await collections.slots.insertMany(docs, { ordered: false })
  } catch (err) {
    if (!isDuplicateWrite(err)) throw err
    for (const play of planned) alone.add(play.index)
  }
}

async function writeSessions (
  collections: AdmissionCollections, requests: readonly PlayRequest[], planned: readonly Planned[], answers: Array<Admission | undefined>, options: AdmissionOptions
): Promise<void> {
  const admitted = planned.flatMap((play) => play.lease === undefined ? [] : [{ play, lease: play.lease, fields: sessionFields(playedBy(requests[play.index] as PlayRequest), play.lease) }])
  if (admitted.length === 0) return
  let failed: ReadonlySet<number> = new Set()
  try {
    await collections.sessions.insertMany(admitted.map(({ play, fields, lease }) => newSessionDoc(play.key, fields, lease.now)), { ordered: false })
  } catch (err) {
    if (!isDuplicateWrite(err)) throw err
    // MongoDB names the documents it refused; the embedded store refuses the whole insert.
    const refused = writeErrorIndexes(err)
    failed = refused.size > 0 ? refused : new Set(admitted.keys())
  }
  for (const [i, { play, lease, fields }] of admitted.entries()) {
    let renewed = false
    if (failed.has(i)) {
      // Written meanwhile, by this viewer's request at another replica: upserted as one admission would.
      renewed = await recordSession(collections, play.key, fields, lease, options.events)
    } else if (options.events !== undefined) {
      tellStarted(options.events, play.key, fields, lease.now)
    }
    answers[play.index] = { allowed: true, session: play.key, slot: lease.slot, tokenSlot: lease.tokenSlot, renewed, expiresAt: lease.expiresAt }
  }
}

/** A write the store refused for duplicate keys only (MongoDB lists each; the embedded store names one). */
function isDuplicateWrite (err: unknown): boolean {
  const errors = (err as { writeErrors?: unknown }).writeErrors
  if (Array.isArray(errors) && errors.length > 0) return errors.every((e) => isDuplicateKey(e))
  return isDuplicateKey(err)
}

function writeErrorIndexes (err: unknown): Set<number> {
  const errors = (err as { writeErrors?: Array<{ index?: unknown }> }).writeErrors
  return new Set(Array.isArray(errors) ? errors.flatMap((e) => typeof e.index === 'number' ? [e.index] : []) : [])
}
