// Plays admitted in a batch against the embedded store (or MONGODB_URL): each as admitSession
// would admit it alone (limits of the tariff, the token and the grant's addresses, exact across
// concurrent batches), in a fixed number of store commands whatever the batch's size and
// however many sessions are live; a slot another writer took after the batch's read sends
// the batch's plays to admitSession one by one, and still no limit is passed.

import t from 'tap'
import type { CommandStartedEvent } from 'mongodb'
import { admitNewSessions } from '../../src/billing/admit-new-sessions.js'
import type { Admission, AdmissionCollections, PlayRequest } from '../../src/billing/admit-session.js'
import { hlsSessionKey } from '../../src/billing/hls-sessions.js'
import type { SessionEvents, SessionRecord } from '../../src/billing/session-events.js'
import { sessionCollectionsOf } from '../../src/billing/sessions.js'
import { tokenSlotOwner } from '../../src/billing/token-slots.js'
import type { StreamClaims } from '../../src/signing/stream-signature.js'
import { startTestStore } from '../helpers/store.js'

const store = await startTestStore(t)
const sessions = sessionCollectionsOf(store.collections)
const billing: AdmissionCollections = { accounts: store.collections.accounts, tariffs: store.collections.tariffs, ...sessions }
const T0 = Date.parse('2030-01-01T00:00:00Z')
const LEASE_MS = 30_000
const at = (ms: number): { nowMs: number, leaseMs: number, renewedBy: 'requests' } => ({ nowMs: ms, leaseMs: LEASE_MS, renewedBy: 'requests' })

await store.collections.tariffs.insertMany([
  { _id: 'three', formats: ['hls'], patterns: ['streaming'], max_concurrent_streams: 3 },
  { _id: 'five', formats: ['hls'], patterns: ['streaming'], max_concurrent_streams: 5 },
  { _id: 'ten', formats: ['hls'], patterns: ['streaming'], max_concurrent_streams: 10 },
  { _id: 'unlimited', formats: ['hls'], patterns: ['streaming'], max_concurrent_streams: null },
  { _id: 'flv-only', formats: ['flv'], patterns: ['streaming'], max_concurrent_streams: null }
])

let accounts = 0
async function account (tariff: string): Promise<string> {
  const id = `acct-batch-${++accounts}`
  await store.collections.accounts.insertOne({ _id: id, tariff, status: 'active' })
  return id
}

let viewers = 0
/** A new HLS viewer of owner: a grant of its own and an address of its own. */
function viewer (owner: string, options: { sid?: string, token?: { tid: string, tms: number }, address?: string } = {}): PlayRequest {
  const n = ++viewers
  const sid = options.sid ?? `sid-${n}`
  const address = options.address ?? `198.51.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`
  const claims: StreamClaims = { iss: 'gw-test', aud: 'node-a', sub: 'UIN-DEMO-1/cam-1', fmt: 'hls', own: owner, jti: sid, sid, iat: T0 / 1000, exp: T0 / 1000 + 60, ...options.token }
  return { node: 'node-a', nodePatterns: ['streaming'], clientId: `hls/${sid}/${address}`, key: hlsSessionKey(sid, address), claims, viewerAddress: address }
}

const codes = (admissions: Admission[]): Record<string, number> => {
  const counts: Record<string, number> = {}
  for (const a of admissions) {
    const code = a.allowed ? 'allowed' : a.code
    counts[code] = (counts[code] ?? 0) + 1
  }
  return counts
}

/** The store commands run while fn runs, by name and collection. */
async function commands<T> (fn: () => Promise<T>): Promise<{ result: T, counts: Record<string, number> }> {
  const counts: Record<string, number> = {}
  const listener = (event: CommandStartedEvent): void => {
    const target = (event.command as Record<string, unknown>)[event.commandName]
    const name = `${event.commandName} ${typeof target === 'string' ? target : ''}`
    counts[name] = (counts[name] ?? 0) + 1
  }
  store.client.on('commandStarted', listener)
  try {
    return { result: await fn(), counts }
  } finally {
    store.client.off('commandStarted', listener)
  }
}

const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0)

t.test('50 plays against a limit of 3: exactly 3, each in its own slot, in a few commands', async (t) => {
  const owner = await account('three')
  const { result: admissions, counts } = await commands(async () => await admitNewSessions(billing, Array.from({ length: 50 }, () => viewer(owner)), at(T0)))
  t.same(codes(admissions), { allowed: 3, GW_LIMIT_EXCEEDED: 47 })
  t.same(new Set(admissions.flatMap((a) => a.allowed ? [a.slot] : [])), new Set([`${owner}#0`, `${owner}#1`, `${owner}#2`]))
  t.match(admissions.find((a) => !a.allowed), { message: /limit of 3 concurrent streams/ })
  t.equal(await sessions.sessions.countDocuments({ owner }), 3, 'only admitted plays have a session')
  const seats = (await sessions.slots.find({}, { projection: { owner: 1 } }).toArray()).filter((doc) => doc.owner.startsWith('grant/'))
  t.equal(seats.length, 50, 'every address holds its grant\'s seat, as when admitted alone')
  t.same(counts, {
    'find accounts': 1,
    'find tariffs': 1,
    'find session_slots': 1,
    'insert session_slots': 1,
    'insert sessions': 1
  }, 'one read of each kind, one write of the slots and one of the sessions, for all 50')
})

t.test('the commands of a batch do not grow with the sessions already live', async (t) => {
  const owner = await account('unlimited')
  const limited = await account('five')
  const batch = (): PlayRequest[] => [...Array.from({ length: 20 }, () => viewer(owner)), ...Array.from({ length: 5 }, () => viewer(limited))]
  const before = await commands(async () => await admitNewSessions(billing, batch(), at(T0)))
  // 500 more live sessions, with their seats and the limited account's slots, in batches.
  const many = await account('unlimited')
  for (let i = 0; i < 10; i++) await admitNewSessions(billing, Array.from({ length: 50 }, () => viewer(many)), at(T0))
  t.ok(await sessions.sessions.countDocuments({ expires_at: { $gt: new Date(T0) } }) >= 525)
  const after = await commands(async () => await admitNewSessions(billing, batch(), at(T0)))
  t.same(codes(before.result), { allowed: 25 })
  t.same(codes(after.result), { allowed: 20, GW_LIMIT_EXCEEDED: 5 }, 'the limited account full by then')
  t.same(after.counts, before.counts, 'the same commands, 500 live sessions later')
  t.ok(total(after.counts) <= 5, `${total(after.counts)} commands for 25 plays`)
})

t.test('a token limited to 10 on an account limited to 5: 5 plays, and no token slot kept by the refused', async (t) => {
  const owner = await account('five')
  const token = { tid: 'c'.repeat(64), tms: 10 }
  const admissions = await admitNewSessions(billing, Array.from({ length: 40 }, () => viewer(owner, { token })), at(T0))
  t.same(codes(admissions), { allowed: 5, GW_LIMIT_EXCEEDED: 35 })
  t.equal(await sessions.slots.countDocuments({ owner: tokenSlotOwner(token.tid), expires_at: { $gt: new Date(T0) } }), 5)
  const admitted = admissions.find((a) => a.allowed)
  t.match(admitted, { tokenSlot: new RegExp(`^token/${token.tid}#`), slot: new RegExp(`^${owner}#`) })

  const other = await account('unlimited')
  const shared = { tid: 'd'.repeat(64), tms: 4 }
  const more = await admitNewSessions(billing, Array.from({ length: 12 }, () => viewer(other, { token: shared })), at(T0))
  t.same(codes(more), { allowed: 4, GW_TOKEN_LIMIT: 8 })
  t.match(more.find((a) => !a.allowed), { message: /already feeds 4 viewers at once/ })
})

t.test('one grant, two addresses in one batch: the first is seated, the other refused naming it', async (t) => {
  const owner = await account('unlimited')
  const [first, second] = [viewer(owner, { sid: 'shared-grant' }), viewer(owner, { sid: 'shared-grant' })] as [PlayRequest, PlayRequest]
  const admissions = await admitNewSessions(billing, [first, second, viewer(owner)], at(T0))
  t.same(codes(admissions), { allowed: 2, GW_GRANT_IN_USE: 1 })
  t.match(admissions[1], { allowed: false, code: 'GW_GRANT_IN_USE', message: /another viewer address/, grantHolders: [first.viewerAddress] })
  t.equal(await sessions.slots.countDocuments({ owner: 'grant/shared-grant' }), 1, 'one seat')
})

t.test('free slots are taken again; live ones, and refusals by the tariff, are not', async (t) => {
  const owner = await account('three')
  t.same(codes(await admitNewSessions(billing, [viewer(owner), viewer(owner)], at(T0))), { allowed: 2 })
  // Past their leases: both slots are free, and the third was never written.
  const later = T0 + LEASE_MS
  const admissions = await admitNewSessions(billing, Array.from({ length: 5 }, () => viewer(owner)), at(later))
  t.same(codes(admissions), { allowed: 3, GW_LIMIT_EXCEEDED: 2 })
  t.equal(await sessions.slots.countDocuments({ owner }), 3, 'the two free slots written anew, one more written')
  t.equal(await sessions.slots.countDocuments({ owner, expires_at: { $gt: new Date(later) } }), 3)
  t.same(codes(await admitNewSessions(billing, [viewer(owner), viewer(owner)], at(later + 1000))), { GW_LIMIT_EXCEEDED: 2 }, 'and held now')
})

t.test('billing refusals in a batch are admitSession\'s', async (t) => {
  const admissions = await admitNewSessions(billing, [viewer('acct-nobody'), viewer(await account('flv-only')), viewer(await account('unlimited'))], at(T0))
  t.match(admissions, [
    { allowed: false, code: 'GW_BILLING_BLOCKED', message: /no billing account/ },
    { allowed: false, code: 'GW_BILLING_BLOCKED', message: /hls format/ },
    { allowed: true }
  ])
})

t.test('concurrent batches of two replicas on one account limited to 10: exactly 10', async (t) => {
  const owner = await account('ten')
  const [a, b] = await Promise.all([
    admitNewSessions(billing, Array.from({ length: 30 }, () => viewer(owner)), at(T0)),
    admitNewSessions(billing, Array.from({ length: 30 }, () => viewer(owner)), at(T0))
  ])
  t.same(codes([...a, ...b]), { allowed: 10, GW_LIMIT_EXCEEDED: 50 })
  t.equal(await sessions.slots.countDocuments({ owner, expires_at: { $gt: new Date(T0) } }), 10)
  t.equal(await sessions.sessions.countDocuments({ owner }), 10)
})

t.test('a slot another writer takes after the batch\'s read: the batch\'s plays are admitted alone, within the limit', async (t) => {
  const owner = await account('three')
  // Another replica writes the slot the batch will plan first, between its read and its write.
  let raced = false
  const racing: AdmissionCollections = {
    ...billing,
    slots: new Proxy(sessions.slots, {
      get (target, property) {
        const value: unknown = Reflect.get(target, property, target)
        if (property !== 'insertMany' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value
        return async (...args: unknown[]) => {
          if (!raced) {
            raced = true
            await target.insertOne({ _id: `${owner}#0`, owner, holder: 'elsewhere', node: 'node-b', expires_at: new Date(T0 + LEASE_MS) })
          }
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)
        }
      }
    })
  }
  const admissions = await admitNewSessions(racing, Array.from({ length: 6 }, () => viewer(owner)), at(T0))
  t.ok(raced)
  t.same(codes(admissions), { allowed: 2, GW_LIMIT_EXCEEDED: 4 }, 'two of the three slots were left')
  t.same(new Set(admissions.flatMap((a) => a.allowed ? [a.slot] : [])), new Set([`${owner}#1`, `${owner}#2`]))
  t.equal(await sessions.sessions.countDocuments({ owner }), 2)
  t.equal(await sessions.slots.countDocuments({ owner, expires_at: { $gt: new Date(T0) } }), 3)
})

t.test('a session written meanwhile by another replica is continued, and its start told once', async (t) => {
  const owner = await account('unlimited')
  const started: SessionRecord[] = []
  const events: SessionEvents = { wanted: true, started: (s) => started.push(s), ended: () => {} }
  const plays = Array.from({ length: 4 }, () => viewer(owner))
  const [written] = plays as [PlayRequest]
  // The other replica admitted the first viewer (and told its start) after this batch's caller read it.
  await sessions.sessions.insertOne({
    _id: written.key ?? '', owner, node: 'node-a', client_id: written.clientId, server: 'UIN-DEMO-1', camera: 'cam-1', format: 'hls', started_at: new Date(T0), expires_at: new Date(T0 + LEASE_MS), slot: null, jti: written.claims.jti
  })
  const admissions = await admitNewSessions(billing, plays, { ...at(T0 + 1000), events })
  t.same(codes(admissions), { allowed: 4 })
  t.match(admissions[0], { allowed: true, renewed: true }, 'the written one is continued')
  t.ok(admissions.slice(1).every((a) => a.allowed && !a.renewed))
  t.same(started.map((s) => s._id).sort(), plays.slice(1).map((p) => p.key).sort(), 'each new session told started, the continued one not again')
  t.equal(await sessions.sessions.countDocuments({ owner }), 4)
})
