// docs/design.md section 8, "MongoDB unreachable for 10 minutes", with the embedded store really
// stopped and ten minutes passed on the gateway's injected clock: what was answered in the hour
// before is still answered 302 by the same node rules, what needs the store gets a 503 with
// Retry-After without waiting for it once the store is known down, and fresh data is used
// again once the store is back, without a restart.

import { parseServiceKeys } from '../../src/signing/service-request.js'
import { TEST_SERVICE_KEYS } from '../helpers/processes.js'
import { freePort, until } from '../helpers/wait.js'
import t from 'tap'
import { createAuthService } from '../../src/commands/auth-server.js'
import { createResolverService } from '../../src/commands/resolver.js'
import { loadConfig } from '../../src/config.js'
import { seedDemoData } from '../../src/demo/seed.js'
import { createGateway } from '../../src/gateway.js'
import { startEmbeddedStore, type EmbeddedStore } from '../../src/store/embedded.js'
import { connectStore, ensureIndexes, type Store } from '../../src/store/mongo.js'
import { demoNodes } from '../../src/demo/demo-data.js'
import { get, TEST_SIGNING_KEYS, type Answer } from '../helpers/system.js'

if (process.env.MONGODB_URL !== undefined && process.env.MONGODB_URL !== '') {
  t.plan(0, 'stops and restarts the embedded store; not run against an external MongoDB')
  process.exit(0)
}

let offset = 0
/** The gateway's clock: real time plus what the test has moved it on. */
const now = (): number => Date.now() + offset
const MINUTE = 60_000
const QUERY_TIMEOUT_MS = 500

async function seed (store: Store): Promise<void> {
  await seedDemoData(store.collections)
  // A second video server, of another owner: never asked for before the outage.
  await store.collections.servers.updateOne({ _id: 'UIN-DEMO-2' }, {
    $set: { partner: 'demo', owner: 'acct-limited', dc: 'msk', online: true, cameras: { 'cam-1': { online: true, streams: ['main'] } } }
  }, { upsert: true })
  await store.collections.nodes.updateMany({ _id: { $in: demoNodes.map((n) => n._id) } }, { $set: { last_seen: new Date(now()) } })
}

const port = await freePort()
let embedded: EmbeddedStore = await startEmbeddedStore({ port, database: 'ten_minutes' })
t.teardown(() => embedded.stop())
const store = await connectStore({ url: embedded.url, database: 'ten_minutes', serverSelectionTimeoutMs: 1000 })
t.teardown(() => store.close())
await ensureIndexes(store.collections)
await seed(store)

const config = loadConfig({}, {
  signingKeys: TEST_SIGNING_KEYS,
  serviceKeys: parseServiceKeys(TEST_SERVICE_KEYS),
  trustedProxies: ['127.0.0.1/32'],
  logLevel: 'silent',
  snapshotRefreshMs: 200,
  mongodbQueryTimeoutMs: QUERY_TIMEOUT_MS,
  // Grants are the auth-server's (another part of the outage story): cached long here, so that
  // this test is about what the gateway reads from MongoDB itself.
  authGrantTtlMs: 86_400_000,
  authTimeoutMs: 2000,
  resolverTimeoutMs: 2000
})
const resolver = await createResolverService(config)
t.teardown(() => resolver.close())
const authServer = await createAuthService(config, store)
t.teardown(() => authServer.close())
const resolverUrl = await resolver.listen({ host: '127.0.0.1', port: 0 })
const authServerUrl = await authServer.listen({ host: '127.0.0.1', port: 0 })
const gateway = await createGateway({ config: { ...config, resolverUrl, authServerUrl }, store, now, defaultMetrics: false })
t.teardown(() => gateway.close())
const base = await gateway.app.listen({ host: '127.0.0.1', port: 0 })

const moscow = { 'x-forwarded-for': '77.88.8.8' }
const london = { 'x-forwarded-for': '81.2.69.160' }
const warm = [
  { name: 'viewer cam-1 from Moscow', url: `${base}/flv?server=UIN-DEMO-1&camera=cam-1&access_token=demo-viewer-token`, headers: moscow },
  { name: 'viewer cam-2 from London', url: `${base}/hls?server=UIN-DEMO-1&camera=cam-2&access_token=demo-viewer-token&steering=off`, headers: london },
  { name: 'admin cam-1 from Moscow', url: `${base}/flv?server=UIN-DEMO-1&camera=cam-1&access_token=demo-admin-token`, headers: moscow }
]
/** A server last asked for more than an hour before the outage: its record must come from the store. */
const cold = { url: `${base}/flv?server=UIN-DEMO-2&camera=cam-1&access_token=demo-admin-token`, headers: moscow }

const host = (answer: Answer): string => new URL(String(answer.headers.location)).host

async function timed (url: string, headers: Record<string, string>): Promise<{ answer: Answer, ms: number }> {
  const started = performance.now()
  const answer = await get(url, { headers })
  return { answer, ms: performance.now() - started }
}

async function metric (name: string): Promise<number> {
  const text = (await get(`${base}/metrics`)).body
  return Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1])
}

t.test('ten minutes without MongoDB, then back', async (t) => {
  t.equal((await get(cold.url, { headers: cold.headers })).status, 302, 'UIN-DEMO-2, an hour and more before the outage')
  offset += 61 * MINUTE
  await seed(store)
  const nodeOf = new Map<string, string>()
  for (const request of warm) {
    let answer: Answer | undefined
    // Until the snapshot has read the nodes' new heartbeats.
    await until(async () => { answer = await get(request.url, { headers: request.headers }); return answer.status === 302 }, 10_000)
    t.equal(answer?.status, 302, `${request.name}: 302 before the outage (${answer?.body ?? ''})`)
    if (answer !== undefined) nodeOf.set(request.name, host(answer))
  }
  t.equal((await get(`${base}/readyz`)).json().status, 'ready')

  await embedded.stop()
  const stoppedAt = performance.now()
  // The first requests that need the store wait for it, up to the query deadline, and the
  // snapshot's reads fail too: after a few failures the store is known down.
  const first = await timed(cold.url, cold.headers)
  t.equal(first.answer.status, 503, 'a request needing the store: 503')
  t.ok(await until(async () => gateway.storeHealth.state() === 'down', 10_000), 'the gateway learns that the store is down')
  t.comment(`store known down ${Math.round(performance.now() - stoppedAt)} ms after it stopped; the first cold request took ${Math.round(first.ms)} ms`)

  const coldTimes: number[] = []
  let served = 0
  for (let minute = 1; minute <= 10; minute++) {
    offset += MINUTE
    for (let i = 0; i < 5; i++) {
      for (const request of warm) {
        const answer = await get(request.url, { headers: request.headers })
        if (answer.status === 302 && host(answer) === nodeOf.get(request.name)) served++
        else t.fail(`minute ${minute}, ${request.name}: ${answer.status} ${answer.body} ${String(answer.headers.location)}`)
      }
      const { answer, ms } = await timed(cold.url, cold.headers)
      coldTimes.push(ms)
      t.equal(answer.status, 503, `minute ${minute}: a request needing the store is 503`)
      t.equal(answer.json().error.code, 'GW_DEPENDENCY_DOWN')
      t.ok(Number(answer.headers['retry-after']) > 0, 'with Retry-After')
    }
  }
  t.equal(served, 10 * 5 * warm.length, `every warm request answered 302 by the same node through ten minutes (${served})`)
  const slowest = Math.max(...coldTimes)
  t.comment(`503 while the store is known down: median ${coldTimes.sort((a, b) => a - b)[coldTimes.length >> 1]?.toFixed(1)} ms, slowest ${slowest.toFixed(1)} ms over ${coldTimes.length}`)
  t.ok(slowest < QUERY_TIMEOUT_MS, 'none of them waited for the store')

  const ready = await get(`${base}/readyz`)
  t.equal(ready.status, 200, '/readyz: still in rotation')
  t.equal(ready.json().status, 'degraded')
  t.ok(ready.json().snapshot.age_s >= 600, `the snapshot is reported ${String(ready.json().snapshot.age_s)} s old`)
  t.ok(ready.json().stale.cached.server_records >= 1, 'and which records answer stale')
  t.ok(await metric('geogate_snapshot_age_seconds') >= 600, '/metrics: the snapshot\'s age')
  t.equal(await metric('geogate_store_up'), 0)

  // Back, with a change: cam-1 of UIN-DEMO-1 went offline while the store was away.
  embedded = await startEmbeddedStore({ port, database: 'ten_minutes' })
  const backAt = performance.now()
  t.ok(await until(async () => {
    try {
      await seed(store)
      await store.collections.servers.updateOne({ _id: 'UIN-DEMO-1' }, { $set: { 'cameras.cam-1.online': false } })
      return true
    } catch { return false }
  }, 20_000), 'the store is back')
  let last = ''
  t.ok(await until(async () => {
    const answer = await get(warm[0]?.url ?? '', { headers: moscow })
    last = `${answer.status} ${answer.body}`
    return answer.status === 503 && answer.json().error.code === 'GW_CAMERA_OFFLINE'
  }, 20_000), `the fresh record is used again (last: ${last})`)
  t.ok(await until(async () => (await get(cold.url, { headers: cold.headers })).status === 302, 20_000), 'a server never seen before is found')
  t.comment(`fresh data answered ${Math.round(performance.now() - backAt)} ms after the store came back`)
  t.equal(gateway.storeHealth.state(), 'up')
  t.equal((await get(`${base}/readyz`)).json().status, 'ready')
})
