// The store stops under live HLS sessions: their checks go on from memory, the flushes that fail
// are counted and fail no request, and the renewals land once the store is back. The embedded
// store is stopped and started again on its port, its session documents put back as the kept
// store of `geogate dev` restores them.

import net from 'node:net'
import t from 'tap'
import { createHlsSessions, hlsSessionKey, type HlsStoreCall } from '../../src/billing/hls-sessions.js'
import { sessionCollectionsOf } from '../../src/billing/sessions.js'
import { newSessionId, type StreamClaims } from '../../src/signing/stream-signature.js'
import { startEmbeddedStore, type EmbeddedStore } from '../../src/store/embedded.js'
import { connectStore, ensureIndexes } from '../../src/store/mongo.js'

if (process.env.MONGODB_URL !== undefined && process.env.MONGODB_URL !== '') {
  t.plan(0, 'stops and restarts the embedded store; not run against an external MongoDB')
  process.exit(0)
}

function freePort (): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

const port = await freePort()
let embedded: EmbeddedStore = await startEmbeddedStore({ port, database: 'renewals' })
t.teardown(() => embedded.stop())
// Server selection gives up fast: a flush against a stopped store fails in half a second.
const store = await connectStore({ url: embedded.url, database: 'renewals', serverSelectionTimeoutMs: 500 })
t.teardown(() => store.close())
await ensureIndexes(store.collections)
const sessions = sessionCollectionsOf(store.collections)
const billing = { accounts: store.collections.accounts, tariffs: store.collections.tariffs, ...sessions }
await store.collections.tariffs.insertOne({ _id: 'ten', formats: ['hls'], patterns: ['streaming'], max_concurrent_streams: 10 })
await store.collections.accounts.insertOne({ _id: 'acct-ten', tariff: 'ten', status: 'active' })

let clock = Date.parse('2030-01-01T00:00:00Z')
const now = (): number => clock
const IDLE_MS = 15_000

async function until (what: string, condition: () => Promise<boolean>, deadlineMs = 10_000): Promise<void> {
  const started = Date.now()
  while (!await condition()) {
    if (Date.now() - started > deadlineMs) throw new Error(`not within ${deadlineMs} ms: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

t.test('flushes fail while the store is away, no request does, and the renewals land once it is back', async (t) => {
  const calls: Record<HlsStoreCall, number> = { read: 0, admit: 0, renew: 0, 'renew-failed': 0 }
  const hls = createHlsSessions({ billing, nodePatterns: async () => ['streaming'], idleMs: IDLE_MS, maxMs: 3_600_000, now, onStore: (call) => { calls[call]++ } })
  t.teardown(() => hls.close())
  const viewers = Array.from({ length: 3 }, (_, i) => {
    const sid = newSessionId()
    const iat = Math.floor(clock / 1000)
    const claims: StreamClaims = { iss: 'gw', aud: 'node-a', sub: 'UIN-DEMO-1/cam-1', fmt: 'hls', own: 'acct-ten', jti: sid, sid, iat, exp: iat + 60 }
    return { claims, viewer: { node: 'node-a', address: `198.51.100.${i + 1}` }, key: hlsSessionKey(sid, `198.51.100.${i + 1}`) }
  })
  const watch = async (): Promise<number> => {
    let allowed = 0
    for (const v of viewers) if ((await hls.check(v.claims, v.viewer)).allowed) allowed++
    return allowed
  }
  t.equal(await watch(), 3, 'three sessions started')
  const kept = {
    sessions: await sessions.sessions.find({}).toArray(),
    slots: await sessions.slots.find({}).toArray()
  }

  await embedded.stop()
  // Seven seconds of requests with the store away, a flush due every five: within the lease.
  for (let s = 1; s <= 7; s++) {
    clock += 1000
    t.equal(await watch(), 3, `+${s} s: every request answered from memory`)
    if (s === 5) await hls.flush()
  }
  t.equal(calls['renew-failed'], 1, 'the flush failed, and was counted')
  t.equal(calls.renew, 1, 'the only flush')

  embedded = await startEmbeddedStore({ port, database: 'renewals' })
  // What the kept store restores after a restart, once the client finds the store again.
  await until('the store answers again', async () => await ensureIndexes(store.collections).then(() => true, () => false))
  await sessions.sessions.insertMany(kept.sessions)
  await sessions.slots.insertMany(kept.slots)
  // The next flush retries what the failed one held, with the requests seen since.
  await hls.flush()
  t.equal(calls['renew-failed'], 1, 'the retry did not fail')
  const leases = await sessions.sessions.find({ _id: { $in: viewers.map((v) => v.key) } }).toArray()
  t.equal(leases.length, 3, 'the restored sessions')
  // The last requests were at +7 s; leases end HLS idle after them, rounded down to the 5 s pace.
  t.ok(leases.every((doc) => doc.expires_at.getTime() === clock - 2000 + IDLE_MS), 'every session renewed from the requests made during the outage')
  const slots = await sessions.slots.find({ holder: { $in: viewers.map((v) => v.key) } }).toArray()
  t.ok(slots.length === 3 && slots.every((doc) => doc.expires_at.getTime() === clock - 2000 + IDLE_MS), 'and their slots')
  clock += 1000
  t.equal(await watch(), 3, 'and they go on')
})
