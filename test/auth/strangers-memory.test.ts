// Strangers cannot grow the gateway's memory: 10,000 distinct bad tokens of 4,000 characters
// (40 MB of tokens, were they kept; 2 MB of digests, above the 1 MiB this gateway may spend
// remembering them),
// sent over HTTP to a gateway in its own process, leave its heap (after full collections) less
// than 20 MB larger, and a valid token is still answered from the cache afterwards.

import t from 'tap'
import { Pool } from 'undici'
import { loadConfig } from '../../src/config.js'
import { demoTokenDocs } from '../../src/demo/demo-data.js'
import { seedDemoData } from '../../src/demo/seed.js'
import { memoryTokenCollection } from '../../bench/servers/memory-tokens.js'
import { parseServiceKeys } from '../../src/signing/service-request.js'
import { startGatewayProcess } from '../helpers/gateway-process.js'
import { TEST_SERVICE_KEYS } from '../helpers/processes.js'
import { startTestStore } from '../helpers/store.js'
import { markDemoNodesAlive, TEST_SIGNING_KEYS } from '../helpers/system.js'
import { startAuthServer } from './auth-server-fixture.js'

// Sending them takes a while on a busy machine; the default per-file limit is for quicker tests.
t.setTimeout(900_000)

const STRANGERS = 10_000
const CONCURRENCY = 64
const MB = 1024 * 1024

const store = await startTestStore(t)
await seedDemoData(store.collections)
await markDemoNodesAlive(store)
const alive = setInterval(() => { markDemoNodesAlive(store).catch(() => {}) }, 3000)
t.teardown(() => clearInterval(alive))
// The real auth-server app, its tokens in memory: the embedded store scans its collection for
// every lookup (docs/design.md section 8), and 100,000 of them would take minutes; MongoDB's _id
// index answers as this does.
const authServer = await startAuthServer(t, { tokens: memoryTokenCollection(demoTokenDocs), now: Date.now })
const config = loadConfig({}, {
  signingKeys: TEST_SIGNING_KEYS,
  serviceKeys: parseServiceKeys(TEST_SERVICE_KEYS),
  gatewayId: 'gw-strangers',
  trustedProxies: ['127.0.0.1/32'],
  logLevel: 'silent',
  // No resolver: clients are located by the bundled database, and nothing else is asked.
  resolverUrl: 'http://127.0.0.1:1',
  authServerUrl: authServer.url,
  // The machine may be busy: a slow answer must not be a 503 here, and the valid token's rights
  // must outlast the run, however long it takes, to show they are still cached after it.
  authTimeoutMs: 5000,
  authGrantTtlMs: 3_600_000,
  authDenyCacheBytes: 1024 * 1024
})
const gateway = await startGatewayProcess(t, config, store)
const pool = new Pool(gateway.url, { connections: CONCURRENCY, pipelining: 1 })
t.teardown(() => pool.close())

const headers = { 'x-forwarded-for': '77.88.8.8' }
async function statusOf (token: string): Promise<number> {
  const { statusCode, body } = await pool.request({ method: 'GET', path: `/flv?server=UIN-DEMO-1&camera=cam-1&access_token=${token}`, headers })
  await body.dump()
  return statusCode
}

/** Sends tokens from..to (exclusive), CONCURRENCY at a time; counts the answers by status. */
async function sendStrangers (from: number, to: number): Promise<Map<number, number>> {
  const statuses = new Map<number, number>()
  const padding = 'x'.repeat(4000)
  let next = from
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < to) {
      const n = next++
      const token = `${n}-${padding}`.slice(0, 4000)
      const status = await statusOf(token)
      statuses.set(status, (statuses.get(status) ?? 0) + 1)
    }
  }))
  return statuses
}

t.test('10,000 distinct bad tokens of 4,000 characters grow the heap by less than 20 MB', { timeout: 840_000 }, async (t) => {
  t.equal(await statusOf('demo-viewer-token'), 302, 'a valid token, now cached')
  // Warm the gateway up (compiled code, sockets, pools) before its heap is the baseline.
  await sendStrangers(0, 2000)
  const before = await gateway.heapAfterGc()
  const askedBefore = authServer.tokensAsked
  const statuses = await sendStrangers(2000, 2000 + STRANGERS)
  t.same([...statuses], [[401, STRANGERS]], 'every stranger refused 401')
  t.equal(authServer.tokensAsked - askedBefore, STRANGERS, 'each one asked about once')
  const after = await gateway.heapAfterGc()
  t.comment(`gateway heap after GC: ${(before / MB).toFixed(1)} MB before, ${(after / MB).toFixed(1)} MB after (${((after - before) / MB).toFixed(1)} MB more)`)
  t.ok(after - before < 20 * MB, `grew by ${((after - before) / MB).toFixed(1)} MB`)
  const calls = authServer.calls
  t.equal(await statusOf('demo-viewer-token'), 302, 'the valid token is still answered…')
  t.equal(authServer.calls, calls, '…from the cache')
})
