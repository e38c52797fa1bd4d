// Where billing tells of a session's start and end (SessionEvents), against the embedded store
// (or MONGODB_URL): an admission tells a new session's start, and the end of the one its client
// id held if that ran out unnoticed; a stop tells its end once however often it comes; a sweep
// tells the end of each session it deletes, once whatever the number of replicas sweeping, and
// never one an operator or a revocation ended (that was told then). The events are recorded by
// an injected object.

import t from 'tap'
import { admitSession, type AdmissionCollections } from '../../src/billing/admit-session.js'
import { createHlsSessions } from '../../src/billing/hls-sessions.js'
import type { SessionEndReason, SessionEvents, SessionRecord } from '../../src/billing/session-events.js'
import { sweepExpiredSessions } from '../../src/billing/session-sweeper.js'
import { releaseSession, sessionCollectionsOf } from '../../src/billing/sessions.js'
import type { StreamClaims } from '../../src/signing/stream-signature.js'
import { startTestStore } from '../helpers/store.js'

const store = await startTestStore(t)
const sessions = sessionCollectionsOf(store.collections)
const billing: AdmissionCollections = { accounts: store.collections.accounts, tariffs: store.collections.tariffs, ...sessions }
await store.collections.tariffs.insertOne({ _id: 'one', formats: ['flv', 'hls'], patterns: ['streaming'], max_concurrent_streams: null })
await store.collections.accounts.insertOne({ _id: 'acct', tariff: 'one', status: 'active' })

let clock = Date.parse('2030-01-01T00:00:00Z')
const now = (): number => clock
const LEASE_MS = 45_000
const GRACE_MS = 60_000

type Told = ['started', SessionRecord] | ['ended', SessionRecord, SessionEndReason, number]

function recorder (wanted = true): SessionEvents & { told: Told[] } {
  const told: Told[] = []
  return {
    told,
    wanted,
    started: (session) => { told.push(['started', session]) },
    ended: (session, reason, endedAt) => { told.push(['ended', session, reason, endedAt?.getTime() ?? clock]) }
  }
}

let jtis = 0
function claims (fmt: 'flv' | 'hls' = 'flv'): StreamClaims {
  const iat = Math.floor(clock / 1000)
  return { iss: 'gw', aud: 'node-a', sub: 'UIN-1/cam-1', fmt, own: 'acct', jti: `events-${++jtis}`, iat, exp: iat + 60, tid: 'cd'.repeat(32) }
}

async function play (clientId: string, events: SessionEvents): Promise<void> {
  const admission = await admitSession(billing, { node: 'node-a', nodePatterns: ['streaming'], clientId, claims: claims(), address: '81.2.69.160' }, { nowMs: clock, leaseMs: LEASE_MS, events })
  if (!admission.allowed) throw new Error(`${clientId}: ${admission.code}`)
}

t.afterEach(async () => {
  await sessions.sessions.deleteMany({})
  await sessions.slots.deleteMany({})
})

t.test('a play tells its start once; a stop tells its end once', async (t) => {
  const events = recorder()
  const started = clock
  await play('c1', events)
  await play('c1', events)
  t.equal(events.told.length, 1, 'a repeated play of a live session is no new session')
  t.match(events.told[0], ['started', { _id: 'node-a:c1', owner: 'acct', node: 'node-a', server: 'UIN-1', camera: 'cam-1', format: 'flv', tid: 'cd'.repeat(32), address: '81.2.69.160' }])
  t.equal((events.told[0]?.[1] as SessionRecord).started_at.getTime(), started)

  clock += 5000
  const told = { events, nowMs: clock }
  const stops = await Promise.all([releaseSession(billing, 'node-a', 'c1', told), releaseSession(billing, 'node-a', 'c1', told)])
  t.same(stops.filter(Boolean).length, 1, 'one stop deleted it')
  t.equal(events.told.length, 2, 'and only that one told')
  t.match(events.told[1], ['ended', { _id: 'node-a:c1', owner: 'acct' }, 'stopped', clock])
  t.equal(await releaseSession(billing, 'node-a', 'c1', told), false)
  t.equal(events.told.length, 2)
})

t.test('a stop after the lease ran out tells an expiry at the lease\'s end', async (t) => {
  const events = recorder()
  const start = clock
  await play('late', events)
  clock += LEASE_MS + 10_000
  await releaseSession(billing, 'node-a', 'late', { events, nowMs: clock })
  t.match(events.told[1], ['ended', { _id: 'node-a:late' }, 'expired', start + LEASE_MS])
})

t.test('a play of a client id whose session ran out unnoticed tells that end, then the new start', async (t) => {
  const events = recorder()
  const first = clock
  await play('reused', events)
  clock += LEASE_MS + 1000
  await play('reused', events)
  t.equal(events.told.length, 3)
  t.match(events.told[1], ['ended', { _id: 'node-a:reused' }, 'expired', first + LEASE_MS])
  t.equal((events.told[1]?.[1] as SessionRecord).started_at.getTime(), first)
  t.match(events.told[2], ['started', { _id: 'node-a:reused' }])
  t.equal((events.told[2]?.[1] as SessionRecord).started_at.getTime(), clock)
})

t.test('an HLS session tells its start at its first request, not at the ones that continue it', async (t) => {
  const events = recorder()
  const hls = createHlsSessions({ billing, nodePatterns: async () => ['streaming'], idleMs: 10_000, maxMs: 3_600_000, now, events })
  const grant = claims('hls')
  const viewer = { node: 'node-a', address: '198.51.100.7' }
  t.same(await hls.check(grant, viewer), { allowed: true })
  clock += 4000
  t.same(await hls.check(grant, viewer), { allowed: true })
  t.equal(events.told.length, 1)
  t.match(events.told[0], ['started', { node: 'node-a', format: 'hls', owner: 'acct', tid: 'cd'.repeat(32), address: '198.51.100.7' }])
})

t.test('sweeps tell each expired session\'s end once, however many replicas sweep; an ended one is not told again', async (t) => {
  const events = recorder()
  for (let i = 0; i < 30; i++) await play(`swept-${i}`, events)
  // One ended by an operator: its end was told when it was ended.
  await sessions.sessions.updateOne({ _id: 'node-a:swept-0' }, { $set: { ended_at: new Date(clock), ended_by: 'admin:ops', end_reason: 'ended', expires_at: new Date(clock) } })
  const leaseEnd = clock + LEASE_MS
  events.told.length = 0
  clock += LEASE_MS + GRACE_MS + 1
  const replicas = await Promise.all([1, 2, 3].map(async () => await sweepExpiredSessions(sessions, { graceMs: GRACE_MS, batch: 7, maxBatches: 100, nowMs: clock, events })))
  t.equal(replicas.reduce((sum, swept) => sum + swept.sessions, 0), 30, 'every document deleted once')
  t.equal(await sessions.sessions.countDocuments({}), 0)
  t.equal(events.told.length, 29, 'each end told once; the ended one not at all')
  t.same(new Set(events.told.map((told) => told[1]._id)).size, 29)
  t.ok(events.told.every((told) => told[0] === 'ended' && told[2] === 'expired' && told[3] === leaseEnd), 'as expired, at the lease\'s end')
})

t.test('while nobody listens, sweeps and stops tell nothing and read nothing more', async (t) => {
  const events = recorder(false)
  await play('quiet-1', events)
  await play('quiet-2', events)
  t.equal(events.told.length, 2, 'admission tells the recorder either way: it decides whether to queue')
  events.told.length = 0
  const reads: string[] = []
  const watched = { ...sessions, sessions: new Proxy(sessions.sessions, { get: (target, name, receiver) => { if (name === 'findOne' || name === 'find') reads.push(String(name)); return Reflect.get(target, name, receiver) } }) }
  await releaseSession(watched, 'node-a', 'quiet-1', { events, nowMs: clock })
  t.same(reads, [], 'a stop deletes without reading')
  clock += LEASE_MS + GRACE_MS + 1
  t.same(await sweepExpiredSessions(sessions, { graceMs: GRACE_MS, batch: 10, maxBatches: 1, nowMs: clock, events }), { sessions: 1, slots: 0 })
  t.same(events.told, [])
})
