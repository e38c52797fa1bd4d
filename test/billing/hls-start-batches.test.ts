// HLS sessions that start together are admitted together, against the embedded store (or
// MONGODB_URL): a crowd of new viewers at one replica costs the store the same few commands
// whether 0 or hundreds of sessions are live (one read of their documents, one of their
// accounts, tariffs and slots, one write of the slots and one of the documents), where each
// start had cost several of its own; and the account's limit stays exact when two replicas
// admit crowds of one account at once. A batch's writes take as long as the store needs, under
// the deadline of the lease renewals rather than a request's.

import { countCommands, START, startHlsFixture } from './hls-fixture.js'
import t from 'tap'
import type { Collection, Document } from 'mongodb'
import type { AdmissionCollections } from '../../src/billing/admit-session.js'
import { createHlsSessions, type HlsSessions, type HlsVerdict } from '../../src/billing/hls-sessions.js'
import { createQueryGuard, guardCollection } from '../../src/store/guarded-collections.js'
import { createStoreHealth } from '../../src/store/store-health.js'
import type { StreamClaims } from '../../src/signing/stream-signature.js'

const LIMIT = 10
const { store, billing } = await startHlsFixture(t, 'batch-ten', 'acct-batch-ten', LIMIT)
await store.collections.tariffs.insertOne({ _id: 'batch-unlimited', formats: ['hls'], patterns: ['streaming'], max_concurrent_streams: null })
await store.collections.accounts.insertOne({ _id: 'acct-batch-unlimited', tariff: 'batch-unlimited', status: 'active' })

let clock = START
const now = (): number => clock
const IDLE_MS = 30_000

function replica (): HlsSessions {
  const gateway = createHlsSessions({ billing, nodePatterns: async () => ['streaming'], idleMs: IDLE_MS, maxMs: 3_600_000, now })
  t.teardown(() => gateway.close())
  return gateway
}

let viewers = 0
/** A new viewer of owner: a grant and an address of its own. */
function viewer (owner: string): { claims: StreamClaims, node: string, address: string } {
  const n = ++viewers
  const iat = Math.floor(clock / 1000)
  return {
    claims: { iss: 'gw', aud: 'node-a', sub: 'UIN-DEMO-1/cam-1', fmt: 'hls', own: owner, jti: `batch-${n}`, sid: `batch-${n}`, iat, exp: iat + 60 },
    node: 'node-a',
    address: `203.0.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`
  }
}

const codes = (verdicts: HlsVerdict[]): Record<string, number> => {
  const counts: Record<string, number> = {}
  for (const v of verdicts) {
    const code = v.allowed ? 'allowed' : `${v.error.code} ${/GW_[A-Z_]+/.exec(v.error.message)?.[0] ?? ''}`.trim()
    counts[code] = (counts[code] ?? 0) + 1
  }
  return counts
}

async function crowd (gateway: HlsSessions, owner: string, size: number): Promise<HlsVerdict[]> {
  return await Promise.all(Array.from({ length: size }, () => {
    const v = viewer(owner)
    return gateway.check(v.claims, v)
  }))
}

t.test('a crowd of new viewers costs the same few commands with 0 or 500 sessions live', async (t) => {
  const gateway = replica()
  let verdicts: HlsVerdict[] = []
  const first = await countCommands(store, async () => { verdicts = await crowd(gateway, 'acct-batch-unlimited', 100) })
  t.same(codes(verdicts), { allowed: 100 })
  t.same(first, { find: 4, insert: 2 }, 'the sessions read, the accounts, tariffs and slots read, the seats and the documents written')
  for (let i = 0; i < 5; i++) await crowd(gateway, 'acct-batch-unlimited', 100)
  t.equal(await store.collections.sessions.countDocuments({ expires_at: { $gt: new Date(clock) } }), 600)
  const later = await countCommands(store, async () => { verdicts = await crowd(gateway, 'acct-batch-unlimited', 100) })
  t.same(codes(verdicts), { allowed: 100 })
  t.same(later, first, 'the same commands, 500 sessions later')
  t.equal(gateway.size, 700)
  clock += IDLE_MS
})

t.test('two replicas admitting crowds of one account at once: exactly its limit', async (t) => {
  const a = replica()
  const b = replica()
  const [onA, onB] = await Promise.all([crowd(a, 'acct-batch-ten', 60), crowd(b, 'acct-batch-ten', 60)])
  const verdicts = [...onA, ...onB]
  t.same(codes(verdicts), { allowed: LIMIT, 'GW_FORBIDDEN GW_LIMIT_EXCEEDED': 120 - LIMIT })
  t.equal(await store.collections.sessions.countDocuments({ owner: 'acct-batch-ten', expires_at: { $gt: new Date(clock) } }), LIMIT)
  t.equal(await store.collections.sessionSlots.countDocuments({ owner: 'acct-batch-ten', expires_at: { $gt: new Date(clock) } }), LIMIT)
  t.equal(a.size + b.size, LIMIT, 'each admitted session held by the replica that admitted it')
  clock += IDLE_MS
})

t.test('a batch whose writes take longer than a request\'s deadline still starts its sessions', async (t) => {
  // The embedded store takes over a second to insert into thousands of slots; here each insert
  // is held back 300 ms, past a request's 100 ms deadline and well within the renewals' 5 s.
  const slow = <T extends Document>(collection: Collection<T>): Collection<T> => new Proxy(collection, {
    get (target, property) {
      const value: unknown = Reflect.get(target, property, target)
      if (typeof value !== 'function') return value
      const method = value as (...args: unknown[]) => Promise<unknown>
      if (property !== 'insertMany') return method.bind(target)
      return async (...args: unknown[]) => {
        await new Promise((resolve) => setTimeout(resolve, 300))
        return await method.apply(target, args)
      }
    }
  })
  const health = createStoreHealth()
  const request = createQueryGuard({ health, timeoutMs: 100 })
  const background = createQueryGuard({ health, timeoutMs: 5000 })
  const sessions = slow(store.collections.sessions)
  const slots = slow(store.collections.sessionSlots)
  const guarded: AdmissionCollections = {
    accounts: guardCollection(billing.accounts, request),
    tariffs: guardCollection(billing.tariffs, request),
    sessions: guardCollection(sessions, request),
    slots: guardCollection(slots, request)
  }
  const gateway = createHlsSessions({
    billing: guarded,
    renewalCollections: { sessions: guardCollection(sessions, background), slots: guardCollection(slots, background) },
    nodePatterns: async () => ['streaming'],
    idleMs: IDLE_MS,
    maxMs: 3_600_000,
    now
  })
  t.teardown(() => gateway.close())
  t.same(codes(await crowd(gateway, 'acct-batch-unlimited', 5)), { allowed: 5 })
  t.equal(health.state(), 'up', 'and the store breaker counted no failure')
  clock += IDLE_MS
})
