// HLS lease renewals are written behind the requests, under a deadline of their own (a third of
// HLS_IDLE_S), not a request's MONGODB_QUERY_TIMEOUT_MS: a flush of thousands of leases took
// the embedded store over a second, which the request deadline turned into failed flushes
// ('renew-failed'), a tripped store breaker and leases that ran out in memory. Here the store
// answers each chunk 400 ms late, past a 150 ms request deadline and well within the flush's
// 10 s: the flush must succeed, and the viewers go on from memory past their first lease.

import t from 'tap'
import { demoNodeKey } from '../../src/demo/demo-data.js'
import { startCutStoreSystem } from '../helpers/cut-store.js'
import { get, type Answer } from '../helpers/system.js'
import { until } from '../helpers/wait.js'
import { NODE, testSigner } from '../handlers/node/hook-fixtures.js'
import { START } from './hls-fixture.js'

if (process.env.MONGODB_URL !== undefined && process.env.MONGODB_URL !== '') {
  t.plan(0, 'slows an embedded store behind a proxy; not run against an external MongoDB')
  process.exit(0)
}

const REQUEST_DEADLINE_MS = 150
const IDLE_S = 30
const RENEW_EVERY_MS = 5000
const STORE_DELAY_MS = 400
const OWNER = 'acct-renewal-deadline'
const VIEWERS = ['198.51.100.1', '198.51.100.2', '198.51.100.3']

// The gateway opens, and its viewers start, a second past a renewal boundary: their segments
// at START + 5 s raise their leases without making a flush due yet (5 s since the last), and
// one more at START + 6 s makes it due, so that one flush renews them all.
const OPENED = START + 1000
let clock = OPENED
const now = (): number => clock
const { direct, proxy, gateway, base } = await startCutStoreSystem(t, {
  database: 'hls-renewal-deadline',
  config: {
    mongodbQueryTimeoutMs: REQUEST_DEADLINE_MS,
    hlsIdleS: IDLE_S,
    // The gateway's other background reads run under the request deadline: left out here, so
    // that only the renewals meet the slow store.
    sessionSweepMs: 0,
    sessionEndPollMs: 0,
    sessionGuardMs: 0,
    snapshotRefreshMs: 600_000
  },
  now,
  prepare: async (store) => {
    await store.collections.tariffs.insertOne({ _id: 'tariff-renewal-deadline', formats: ['hls'], patterns: ['streaming'], max_concurrent_streams: null })
    await store.collections.accounts.insertOne({ _id: OWNER, tariff: 'tariff-renewal-deadline', status: 'active' })
  }
})

const signer = testSigner(now)
const grants = VIEWERS.map((_, i) => signer.sign({ own: OWNER, fmt: 'hls', jti: `renewal-deadline-${i}` }))

async function verify (viewer: number, file: string): Promise<Answer> {
  return await get(`${base}/verify`, {
    headers: {
      'x-original-uri': `/hls/${grants[viewer] ?? ''}/UIN-DEMO-1/cam-1/${file}`,
      'x-geogate-node': NODE,
      authorization: `Bearer ${demoNodeKey(NODE)}`,
      'x-real-ip': VIEWERS[viewer] ?? ''
    }
  })
}

async function hlsStoreCalls (op: string): Promise<number> {
  const text = (await get(`${base}/metrics`)).body
  const line = text.split('\n').find((l) => l.startsWith(`geogate_hls_session_store_total{op="${op}"}`))
  return line === undefined ? 0 : Number(line.split(' ').pop())
}

async function storedLeases (): Promise<number[]> {
  const docs = await direct.collections.sessions.find({ owner: OWNER }).toArray()
  return docs.map((doc) => doc.expires_at.getTime())
}

t.test('a flush slower than a request\'s deadline renews the leases, and fails nothing', async (t) => {
  for (const [i] of VIEWERS.entries()) t.equal((await verify(i, 'index.m3u8')).status, 204, `viewer ${i} starts a session`)
  t.same(await storedLeases(), VIEWERS.map(() => OPENED + IDLE_S * 1000), 'each admitted with a lease of HLS_IDLE_S')

  proxy.mode('slow', STORE_DELAY_MS)
  clock = START + RENEW_EVERY_MS
  for (const [i] of VIEWERS.entries()) t.equal((await verify(i, 'seg-1.ts')).status, 204, `viewer ${i}'s segment is answered from memory`)
  clock = OPENED + RENEW_EVERY_MS
  t.equal((await verify(0, 'seg-2.ts')).status, 204, 'and the one that makes the flush due')
  const renewed = START + RENEW_EVERY_MS + IDLE_S * 1000
  t.ok(await until(async () => (await storedLeases()).filter((lease) => lease === renewed).length === VIEWERS.length, 8000), 'the flush renewed every lease in the store')

  // Past the leases of the admissions: a viewer goes on from memory only if this replica took
  // the flush's answer (or waits for it); a flush it counted failed would send it to the store.
  const reads = await hlsStoreCalls('read')
  clock = OPENED + IDLE_S * 1000 + 1000
  for (const [i] of VIEWERS.entries()) t.equal((await verify(i, 'seg-3.ts')).status, 204, `viewer ${i} goes on past its first lease`)
  t.equal(await hlsStoreCalls('read'), reads, 'without reading the store')

  t.ok(await hlsStoreCalls('renew') >= 1, 'a flush was made')
  t.equal(await hlsStoreCalls('renew-failed'), 0, 'and none failed')
  t.equal(gateway.storeHealth.state(), 'up', 'the store breaker did not trip')
  const ready = await get(`${base}/readyz`)
  t.match({ status: ready.status, body: ready.json() }, { status: 200, body: { status: 'ready', store: 'connected' } })
  proxy.mode('pass')
})
