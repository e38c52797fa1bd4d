// MongoDB goes away under a running gateway: it keeps serving from its last snapshot and its
// caches, says so in /readyz and /metrics, and recovers by itself when MongoDB returns.

import { freePort, until } from '../helpers/wait.js'
import t from 'tap'
import { request } from 'undici'
import { loadConfig } from '../../src/config.js'
import { createGateway } from '../../src/gateway.js'
import { startEmbeddedStore, type EmbeddedStore } from '../../src/store/embedded.js'
import { connectStore, ensureIndexes } from '../../src/store/mongo.js'
import { seedDemoData } from '../../src/demo/seed.js'
import { startGeogate, TEST_SERVICE_KEYS } from '../helpers/processes.js'
import { parseServiceKeys } from '../../src/signing/service-request.js'
import { get, markDemoNodesAlive, TEST_SIGNING_KEYS } from '../helpers/system.js'

if (process.env.MONGODB_URL !== undefined && process.env.MONGODB_URL !== '') {
  t.plan(0, 'stops and restarts the embedded store; not run against an external MongoDB')
  process.exit(0)
}

const port = await freePort()
let embedded: EmbeddedStore = await startEmbeddedStore({ port, database: 'outage' })
t.teardown(() => embedded.stop())
const store = await connectStore({ url: embedded.url, database: 'outage', serverSelectionTimeoutMs: 1000 })
t.teardown(() => store.close())
await ensureIndexes(store.collections)
await seedDemoData(store.collections)
await markDemoNodesAlive(store as never)

const [resolver, authServer] = await Promise.all([
  startGeogate(t, 'resolver', { RESOLVER_PORT: '0' }),
  startGeogate(t, 'auth-server', { AUTH_SERVER_PORT: '0', MONGODB_URL: embedded.url, MONGODB_DB: 'outage' })
])
const config = loadConfig({}, {
  signingKeys: TEST_SIGNING_KEYS, serviceKeys: parseServiceKeys(TEST_SERVICE_KEYS), trustedProxies: ['127.0.0.1/32'], logLevel: 'silent', resolverUrl: resolver.url, authServerUrl: authServer.url, snapshotRefreshMs: 200
})
const gateway = await createGateway({ config, store, defaultMetrics: false })
t.teardown(() => gateway.close())
// Alive as of now: starting the processes above can take longer than NODE_TTL on a busy machine.
await markDemoNodesAlive(store as never)
await gateway.refreshSnapshot()
const base = await gateway.app.listen({ host: '127.0.0.1', port: 0 })
// Starting the processes above can take longer than NODE_TTL on a busy machine: the nodes must
// be alive when the test begins, not only when the store was seeded.
await markDemoNodesAlive(store as never)
await gateway.refreshSnapshot()
const watch = `${base}/flv?server=UIN-DEMO-1&camera=cam-1&access_token=demo-viewer-token`

async function metric (name: string): Promise<number> {
  const text = await (await request(`${base}/metrics`)).body.text()
  return Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1])
}

t.test('MongoDB away: the last snapshot serves, readiness says degraded, and it recovers', async (t) => {
  // The processes above may have taken longer than a node's TTL to start on a busy machine.
  await markDemoNodesAlive(store as never)
  await gateway.refreshSnapshot()
  t.equal((await get(watch, { headers: { 'x-forwarded-for': '77.88.8.8' } })).status, 302, 'warm before the outage')
  t.equal((await get(`${base}/readyz`)).json().status, 'ready')
  t.equal(await metric('geogate_store_up'), 1)

  await embedded.stop()
  t.ok(await until(async () => (await get(`${base}/readyz`)).json().status === 'degraded', 10_000), '/readyz reports degraded')
  const ready = await get(`${base}/readyz`)
  t.equal(ready.status, 200, 'still in rotation: it can serve')
  t.equal(ready.json().store, 'unreachable')
  t.equal(await metric('geogate_store_up'), 0, 'the metric shows the store down')

  // Billing and server records outlive their 2 s TTL while the store is unreachable: a request
  // answered before the outage still redirects, from the last snapshot.
  const warm = await get(watch, { headers: { 'x-forwarded-for': '77.88.8.8' } })
  t.equal(warm.status, 302, `a warm request still redirects (${warm.body})`)
  const cold = await get(`${base}/flv?server=UIN-NEW&camera=cam-1&access_token=demo-admin-token`)
  t.equal(cold.status, 503, 'an uncached lookup fails closed')
  t.equal(cold.json().error.code, 'GW_DEPENDENCY_DOWN')

  // The embedded store comes back empty and is seeded again here. A full reload that reads it
  // before the seed is in refuses the configuration as a whole (no geo group), and such a
  // refusal is read again on the next audited change or full reload (FULL_RELOAD_MS, 30 s),
  // so readiness may take that long to come back.
  embedded = await startEmbeddedStore({ port, database: 'outage' })
  await seedDemoData(store.collections).catch(() => {})
  let readiness = ''
  t.ok(await until(async () => {
    await seedDemoData(store.collections).catch(() => {})
    await markDemoNodesAlive(store as never).catch(() => {})
    readiness = (await get(`${base}/readyz`)).body
    return JSON.parse(readiness).status === 'ready'
  }, 60_000), `ready again without a restart (last /readyz: ${readiness})`)
  t.equal(await metric('geogate_store_up'), 1)
  let last = ''
  t.ok(await until(async () => {
    const answer = await get(watch, { headers: { 'x-forwarded-for': '77.88.8.8' } })
    last = `${answer.status} ${answer.body}`
    return answer.status === 302
  }, 30_000), `serving normally again (last answer: ${last})`)
})
