// Admission at the node against the embedded store (or MONGODB_URL): the slot protocol under
// concurrency, repeated plays, releases, leases and their renewal, and the billing refusals.

import t from 'tap'
import { admitSession, type Admission, type AdmissionCollections, type PlayRequest } from '../../src/billing/admit-session.js'
import { loadAccountLimits } from '../../src/billing/check-limits.js'
import { releaseSession, renewNodeLeases, sessionCollectionsOf } from '../../src/billing/sessions.js'
import { collectionsOf, ensureIndexes } from '../../src/store/mongo.js'
import type { StreamClaims } from '../../src/signing/stream-signature.js'
import type { StreamFormat } from '../../src/store/documents.js'
import { startTestStore } from '../helpers/store.js'

const store = await startTestStore(t)
await ensureIndexes(collectionsOf(store.db))
const sessions = sessionCollectionsOf(collectionsOf(store.db))
const billing: AdmissionCollections = { accounts: store.collections.accounts, tariffs: store.collections.tariffs, ...sessions }
const LEASE_MS = 45_000
const T0 = Date.parse('2030-01-01T00:00:00Z')

await store.collections.tariffs.insertMany([
  { _id: 'one', formats: ['flv', 'hls', 'ws-fmp4'], patterns: ['streaming'], max_concurrent_streams: 1 },
  { _id: 'three', formats: ['flv', 'hls', 'ws-fmp4'], patterns: ['streaming'], max_concurrent_streams: 3 },
  { _id: 'none', formats: ['flv'], patterns: ['streaming'], max_concurrent_streams: 0 },
  { _id: 'flv-only', formats: ['flv'], patterns: ['streaming'], max_concurrent_streams: null },
  { _id: 'archive-only', formats: ['flv', 'hls', 'ws-fmp4'], patterns: ['archive'], max_concurrent_streams: null },
  { _id: 'unlimited', formats: ['flv', 'hls', 'ws-fmp4'], patterns: ['streaming'], max_concurrent_streams: null }
])

let accounts = 0
async function account (tariff: string, status: 'active' | 'suspended' = 'active'): Promise<string> {
  const id = `acct-${++accounts}`
  await store.collections.accounts.insertOne({ _id: id, tariff, status })
  return id
}

function play (owner: string, clientId: string, options: { node?: string, fmt?: StreamFormat, patterns?: string[] } = {}): PlayRequest {
  const claims: StreamClaims = {
    iss: 'gw-test', aud: options.node ?? 'node-a', sub: 'UIN-DEMO-1/cam-1', fmt: options.fmt ?? 'flv', own: owner, jti: `jti-${clientId}`, iat: 0, exp: 0
  }
  return { node: options.node ?? 'node-a', nodePatterns: options.patterns ?? ['streaming'], clientId, claims }
}

const at = (ms: number): { nowMs: number, leaseMs: number } => ({ nowMs: ms, leaseMs: LEASE_MS })
const allowed = (admissions: Admission[]): number => admissions.filter((a) => a.allowed).length

t.test('50 concurrent plays against a limit of 3 admit exactly 3, each in its own slot', async (t) => {
  const owner = await account('three')
  const admissions = await Promise.all(Array.from({ length: 50 }, (_, i) => admitSession(billing, play(owner, `c${i}`), at(T0))))
  t.equal(allowed(admissions), 3)
  const slots = admissions.flatMap((a) => a.allowed ? [a.slot] : [])
  t.same(new Set(slots), new Set([`${owner}#0`, `${owner}#1`, `${owner}#2`]))
  for (const denied of admissions.filter((a) => !a.allowed)) t.match(denied, { code: 'GW_LIMIT_EXCEEDED', message: /limit of 3 concurrent streams/ })
  t.equal(await sessions.sessions.countDocuments({ owner }), 3, 'only admitted plays have a session')
  t.equal((await loadAccountLimits(store.collections, owner, T0)).activeSessions, 3, 'the redirect-time count agrees')
})

t.test('a repeated play of one client counts once; a stop frees its slot for another', async (t) => {
  const owner = await account('one')
  const first = await admitSession(billing, play(owner, 'same'), at(T0))
  t.match(first, { allowed: true, session: 'node-a:same', slot: `${owner}#0`, renewed: false })
  const again = await admitSession(billing, play(owner, 'same'), at(T0 + 10_000))
  t.match(again, { allowed: true, session: 'node-a:same', slot: `${owner}#0`, renewed: true })
  const lease = await sessions.sessions.findOne({ _id: 'node-a:same' })
  t.equal(lease?.expires_at.getTime(), T0 + 10_000 + LEASE_MS, 'the repeat renewed the lease')
  t.equal(lease?.started_at.getTime(), T0, 'and kept the start')
  t.equal(await sessions.sessions.countDocuments({ owner }), 1)

  t.match(await admitSession(billing, play(owner, 'other'), at(T0 + 10_000)), { allowed: false, code: 'GW_LIMIT_EXCEEDED' })
  t.equal(await releaseSession(billing, 'node-a', 'same'), true)
  t.equal(await releaseSession(billing, 'node-a', 'same'), false, 'a second stop finds nothing and harms nothing')
  t.match(await admitSession(billing, play(owner, 'other'), at(T0 + 10_000)), { allowed: true, slot: `${owner}#0` })
  t.equal((await loadAccountLimits(store.collections, owner, T0 + 10_000)).activeSessions, 1)
})

t.test('one client id on two nodes is two sessions', async (t) => {
  const owner = await account('three')
  t.match(await admitSession(billing, play(owner, '7', { node: 'node-a' }), at(T0)), { allowed: true, session: 'node-a:7' })
  t.match(await admitSession(billing, play(owner, '7', { node: 'node-b' }), at(T0)), { allowed: true, session: 'node-b:7' })
  t.equal(await sessions.slots.countDocuments({ owner, expires_at: { $gt: new Date(T0) } }), 2)
})

t.test('node and client ids holding ":" cannot meet another pair\'s session', async (t) => {
  // Nodes px and px:1; client 5 plays at px:1, then px reports client 1:5 stopped.
  const owner = await account('one')
  t.match(await admitSession(billing, play(owner, '5', { node: 'px:1' }), at(T0)), { allowed: true })
  t.equal(await releaseSession(billing, 'px', '1:5'), false, 'another pair\'s stop finds nothing')
  t.match(await admitSession(billing, play(owner, 'second', { node: 'px' }), at(T0 + 1000)), { allowed: false, code: 'GW_LIMIT_EXCEEDED' },
    'the first play still holds the one stream')
  t.match(await admitSession(billing, play(owner, '1:5', { node: 'px' }), at(T0 + 1000)), { allowed: false, code: 'GW_LIMIT_EXCEEDED' },
    'nor can the other pair renew it as its own')
  t.equal(await releaseSession(billing, 'px:1', '5'), true)
  t.match(await admitSession(billing, play(owner, 'second', { node: 'px' }), at(T0 + 1000)), { allowed: true })
})

t.test('heartbeats do not renew sessions kept alive by their own requests', async (t) => {
  const owner = await account('one')
  t.match(await admitSession(billing, play(owner, 'hls-viewer', { node: 'node-h' }), { ...at(T0), leaseMs: 4000, renewedBy: 'requests' }), { allowed: true })
  await renewNodeLeases(billing, 'node-h', T0 + 3000, LEASE_MS)
  t.equal((await sessions.sessions.findOne({ _id: 'node-h:hls-viewer' }))?.expires_at.getTime(), T0 + 4000)
  t.equal((await sessions.slots.findOne({ holder: 'node-h:hls-viewer' }))?.expires_at.getTime(), T0 + 4000)
  t.match(await admitSession(billing, play(owner, 'next', { node: 'node-h' }), at(T0 + 4000)), { allowed: true }, 'free once idle')
})

t.test('a lease lapses without heartbeats and holds while they come', async (t) => {
  const owner = await account('one')
  t.match(await admitSession(billing, play(owner, 'p', { node: 'node-quiet' }), at(T0)), { allowed: true })
  t.match(await admitSession(billing, play(owner, 'q', { node: 'node-b' }), at(T0 + LEASE_MS - 1)), { allowed: false, code: 'GW_LIMIT_EXCEEDED' })

  // Renewed at T0 + 30 s: the lease now ends at T0 + 75 s.
  await renewNodeLeases(billing, 'node-quiet', T0 + 30_000, LEASE_MS)
  await renewNodeLeases(billing, 'node-b', T0 + 30_000, LEASE_MS)
  t.match(await admitSession(billing, play(owner, 'q', { node: 'node-b' }), at(T0 + 60_000)), { allowed: false, code: 'GW_LIMIT_EXCEEDED' }, 'renewed past the first lease')
  t.equal((await loadAccountLimits(store.collections, owner, T0 + 60_000)).activeSessions, 1)

  // No more heartbeats: at T0 + 75 s the slot is free again, without anything deleting it.
  t.equal((await loadAccountLimits(store.collections, owner, T0 + 75_000)).activeSessions, 0)
  t.match(await admitSession(billing, play(owner, 'q', { node: 'node-b' }), at(T0 + 75_000)), { allowed: true, slot: `${owner}#0` })
  // A late heartbeat of the silent node does not bring its lapsed play back.
  await renewNodeLeases(billing, 'node-quiet', T0 + 80_000, LEASE_MS)
  t.equal((await sessions.sessions.findOne({ _id: 'node-quiet:p' }))?.expires_at.getTime(), T0 + 75_000)
  t.equal((await loadAccountLimits(store.collections, owner, T0 + 80_000)).activeSessions, 1)
})

t.test('a client id played again under another owner gives back what it held', async (t) => {
  const first = await account('one')
  const second = await account('one')
  t.match(await admitSession(billing, play(first, 'reused'), at(T0)), { allowed: true, slot: `${first}#0` })
  t.match(await admitSession(billing, play(second, 'reused'), at(T0 + 1000)), { allowed: true, slot: `${second}#0` })
  const old = await sessions.slots.findOne({ _id: `${first}#0` })
  t.ok(old !== null && old.expires_at.getTime() <= T0 + 1000 && old.holder === undefined, 'the first owner\'s slot is free')
  t.match(await admitSession(billing, play(first, 'fresh'), at(T0 + 1000)), { allowed: true })
})

t.test('an unlimited tariff records the session without a slot', async (t) => {
  const owner = await account('unlimited')
  const admissions = await Promise.all(Array.from({ length: 20 }, (_, i) => admitSession(billing, play(owner, `u${i}`), at(T0))))
  t.equal(allowed(admissions), 20)
  t.ok(admissions.every((a) => a.allowed && a.slot === null))
  t.equal(await sessions.slots.countDocuments({ owner }), 0)
  t.equal(await sessions.sessions.countDocuments({ owner, expires_at: { $gt: new Date(T0) } }), 20)
})

t.test('billing refusals: unknown or suspended account, format or pattern outside the tariff, a zero limit', async (t) => {
  t.match(await admitSession(billing, play('acct-nobody', 'x'), at(T0)), { allowed: false, code: 'GW_BILLING_BLOCKED', message: /no billing account/ })
  t.match(await admitSession(billing, play(await account('one', 'suspended'), 'x'), at(T0)), { allowed: false, code: 'GW_BILLING_BLOCKED', message: /suspended/ })
  t.match(await admitSession(billing, play(await account('flv-only'), 'x', { fmt: 'hls' }), at(T0)), { allowed: false, code: 'GW_BILLING_BLOCKED', message: /hls format/ })
  t.match(await admitSession(billing, play(await account('archive-only'), 'x'), at(T0)), { allowed: false, code: 'GW_BILLING_BLOCKED', message: /streaming pattern/ })
  t.match(await admitSession(billing, play(await account('archive-only'), 'x', { patterns: ['streaming', 'archive'] }), at(T0)), { allowed: true }, 'any role of the node will do')
  t.match(await admitSession(billing, play(await account('none'), 'x'), at(T0)), { allowed: false, code: 'GW_LIMIT_EXCEEDED' })
  const suspendedLater = await account('one')
  t.match(await admitSession(billing, play(suspendedLater, 'y'), at(T0)), { allowed: true })
  await store.collections.accounts.updateOne({ _id: suspendedLater }, { $set: { status: 'suspended' } })
  t.match(await admitSession(billing, play(suspendedLater, 'y'), at(T0 + 1000)), { allowed: false, code: 'GW_BILLING_BLOCKED' }, 'a repeated play is checked again')
})
