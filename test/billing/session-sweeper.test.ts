// The sweep of plays that are over, against the embedded store (or MONGODB_URL): it deletes
// sessions, stream slots and grant seats whose lease ended more than the grace ago when the
// clock moves, leaves live ones, works in bounded batches, is safe with replicas sweeping at
// once, and admission works as before over what it deleted.

import t from 'tap'
import { admitSession, type AdmissionCollections } from '../../src/billing/admit-session.js'
import { createHlsSessions } from '../../src/billing/hls-sessions.js'
import { startSessionSweeper, sweepExpiredSessions, type Swept } from '../../src/billing/session-sweeper.js'
import { releaseSession, sessionCollectionsOf } from '../../src/billing/sessions.js'
import type { StreamClaims } from '../../src/signing/stream-signature.js'
import { startTestStore } from '../helpers/store.js'

const store = await startTestStore(t)
const sessions = sessionCollectionsOf(store.collections)
const billing: AdmissionCollections = { accounts: store.collections.accounts, tariffs: store.collections.tariffs, ...sessions }
await store.collections.tariffs.insertMany([
  { _id: 'two', formats: ['flv', 'hls'], patterns: ['streaming'], max_concurrent_streams: 2 },
  { _id: 'unlimited', formats: ['flv', 'hls'], patterns: ['streaming'], max_concurrent_streams: null }
])
await store.collections.accounts.insertMany([
  { _id: 'acct-two', tariff: 'two', status: 'active' },
  { _id: 'acct-unlimited', tariff: 'unlimited', status: 'active' }
])

let clock = Date.parse('2030-01-01T00:00:00Z')
const now = (): number => clock
const LEASE_MS = 45_000
const IDLE_MS = 15_000
const GRACE_MS = 60_000
const sweepOptions = { graceMs: GRACE_MS, batch: 500, maxBatches: 10 }

let jtis = 0
function claims (own: string, fmt: 'flv' | 'hls'): StreamClaims {
  const iat = Math.floor(clock / 1000)
  return { iss: 'gw', aud: 'node-a', sub: 'UIN-DEMO-1/cam-1', fmt, own, jti: `sweep-${++jtis}`, iat, exp: iat + 60 }
}

async function hookPlay (own: string, clientId: string): Promise<void> {
  const admission = await admitSession(billing, { node: 'node-a', nodePatterns: ['streaming'], clientId, claims: claims(own, 'flv') }, { nowMs: clock, leaseMs: LEASE_MS })
  if (!admission.allowed) throw new Error(`${clientId}: ${admission.code}`)
}

async function counts (): Promise<Swept> {
  return { sessions: await sessions.sessions.countDocuments({}), slots: await sessions.slots.countDocuments({}) }
}

t.afterEach(async () => {
  await sessions.sessions.deleteMany({})
  await sessions.slots.deleteMany({})
})

t.test('expired sessions, slots and seats go once the clock is past their lease and the grace; live ones stay', async (t) => {
  const hls = createHlsSessions({ billing, nodePatterns: async () => ['streaming'], idleMs: IDLE_MS, maxMs: 3_600_000, now })
  // An HLS viewer on a limited account: a session, a stream slot, a grant seat.
  t.same(await hls.check(claims('acct-two', 'hls'), { node: 'node-a', address: '198.51.100.1' }), { allowed: true })
  // A hook play that stops (its slot released), and one whose node goes silent.
  await hookPlay('acct-two', 'stopped')
  t.equal(await releaseSession(billing, 'node-a', 'stopped'), true)
  await hookPlay('acct-unlimited', 'silent')
  t.same(await counts(), { sessions: 2, slots: 3 })

  t.same(await sweepExpiredSessions(sessions, { ...sweepOptions, nowMs: clock }), { sessions: 0, slots: 1 }, 'at once: only the released slot, long past')
  clock += IDLE_MS + GRACE_MS
  // Meanwhile a new play starts: live, it stays.
  await hookPlay('acct-unlimited', 'late')
  clock += 1000
  t.same(await sweepExpiredSessions(sessions, { ...sweepOptions, nowMs: clock }), { sessions: 1, slots: 1 }, 'the idle HLS session and its slot')
  t.same(await counts(), { sessions: 2, slots: 1 }, 'the grant seat lasts until the grant\'s exp')
  clock += LEASE_MS
  t.same(await sweepExpiredSessions(sessions, { ...sweepOptions, nowMs: clock }), { sessions: 1, slots: 1 }, 'the silent node\'s play, the seat')
  t.same(await sessions.sessions.find({}).map((s) => s.client_id).toArray(), ['late'], 'the live play stays')
  clock += LEASE_MS + GRACE_MS
  await sweepExpiredSessions(sessions, { ...sweepOptions, nowMs: clock })
  t.same(await counts(), { sessions: 0, slots: 0 })
})

t.test('admission over swept slots: a slot deleted after it was read as free is taken by writing it again', async (t) => {
  await hookPlay('acct-two', 'a')
  await hookPlay('acct-two', 'b')
  clock += LEASE_MS + GRACE_MS + 1
  // Another replica's sweep lands between the admission's read of the slots and its claims.
  const slots = new Proxy(sessions.slots, {
    get (target, prop, receiver) {
      if (prop !== 'find') return Reflect.get(target, prop, receiver)
      return (...args: Parameters<typeof target.find>) => ({
        async toArray () {
          const read = await target.find(...args).toArray()
          await sweepExpiredSessions(sessions, { ...sweepOptions, nowMs: clock })
          return read
        }
      })
    }
  })
  const admit = (clientId: string): ReturnType<typeof admitSession> =>
    admitSession({ ...billing, slots }, { node: 'node-a', nodePatterns: ['streaming'], clientId, claims: claims('acct-two', 'flv') }, { nowMs: clock, leaseMs: LEASE_MS })
  t.match(await admit('c'), { allowed: true, slot: 'acct-two#0' })
  t.match(await admit('d'), { allowed: true, slot: 'acct-two#1' })
  t.match(await admit('e'), { allowed: false, code: 'GW_LIMIT_EXCEEDED' }, 'the limit holds over rewritten slots')
  t.same(await counts(), { sessions: 2, slots: 2 })
})

t.test('bounded batches; replicas sweeping at once delete each document once', async (t) => {
  const expired = new Date(clock - GRACE_MS - 1)
  const live = new Date(clock + LEASE_MS)
  const doc = (i: number, expiresAt: Date): Parameters<typeof sessions.sessions.insertOne>[0] => ({
    _id: `node-a:c${i}`, owner: 'acct-unlimited', node: 'node-a', client_id: `c${i}`, server: 'UIN-DEMO-1', camera: 'cam-1', format: 'flv', started_at: expired, expires_at: expiresAt, slot: null, jti: `j${i}`
  })
  await sessions.sessions.insertMany([...Array.from({ length: 25 }, (_, i) => doc(i, expired)), ...Array.from({ length: 5 }, (_, i) => doc(100 + i, live))])
  t.same(await sweepExpiredSessions(sessions, { graceMs: GRACE_MS, batch: 4, maxBatches: 2, nowMs: clock }), { sessions: 8, slots: 0 }, 'two batches of four')
  const replicas = await Promise.all([1, 2, 3].map(() => sweepExpiredSessions(sessions, { graceMs: GRACE_MS, batch: 3, maxBatches: 100, nowMs: clock })))
  t.equal(replicas.reduce((sum, s) => sum + s.sessions, 0), 17, 'the other seventeen, each deleted by one replica')
  t.equal(await sessions.sessions.countDocuments({}), 5, 'the live ones stay')
})

t.test('the sweeper runs on its timer with the injected clock, and stops when closed', async (t) => {
  await hookPlay('acct-unlimited', 'timer')
  clock += LEASE_MS + GRACE_MS + 1
  let resolveSwept: (swept: Swept) => void = () => {}
  const swept = new Promise<Swept>((resolve) => { resolveSwept = resolve })
  const sweeper = startSessionSweeper({ collections: sessions, everyMs: 10, now, onSwept: resolveSwept })
  t.same(await swept, { sessions: 1, slots: 0 })
  await sweeper.close()
  await hookPlay('acct-unlimited', 'after-close')
  clock += LEASE_MS + GRACE_MS + 1
  // Ten of its periods: a timer still running would have swept it.
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(await sessions.sessions.countDocuments({}), 1, 'closed: no more sweeps on the timer')
  t.same(await sweeper.sweep(), { sessions: 1, slots: 0 }, 'a sweep asked for still runs')
  t.throws(() => startSessionSweeper({ collections: sessions, everyMs: 0, now }), TypeError)
})

t.test('a failing sweep is reported and the next one runs', async (t) => {
  let calls = 0
  const failing = {
    ...sessions,
    sessions: new Proxy(sessions.sessions, {
      get (target, prop, receiver) {
        if (prop === 'find' && calls++ === 0) return () => { throw new Error('store away') }
        const value = Reflect.get(target, prop, receiver) as unknown
        return typeof value === 'function' ? value.bind(target) : value
      }
    })
  }
  const errors: unknown[] = []
  let resolveSwept: () => void = () => {}
  const swept = new Promise<void>((resolve) => { resolveSwept = resolve })
  const sweeper = startSessionSweeper({ collections: failing, everyMs: 10, now, onError: (err) => errors.push(err), onSwept: () => resolveSwept() })
  await swept
  await sweeper.close()
  t.match(errors, [{ message: 'store away' }])
})
