// Every route family that touches the store (admin, heartbeat, play hooks, a stream request
// that needs a record) answers within MONGODB_QUERY_TIMEOUT_MS when the store stops answering,
// never a 500 and never the driver's 5 s (server selection) or 30 s (socket timeout): once with
// a store that accepts connections and never answers, once with the store stopped. Each answers
// 503 GW_DEPENDENCY_DOWN with Retry-After, but a heartbeat, which counts on the replica that took
// it (200, "stored": false; heartbeat-outage.test.ts). /verify reads nothing from the store and
// keeps answering.

import { startCutStoreSystem } from '../helpers/cut-store.js'
import t, { type Test } from 'tap'
import { demoNodeKey } from '../../src/demo/demo-data.js'
import { get } from '../helpers/system.js'
import { request } from 'undici'
import { testSigner } from '../handlers/node/hook-fixtures.js'

if (process.env.MONGODB_URL !== undefined && process.env.MONGODB_URL !== '') {
  t.plan(0, 'stops the embedded store; not run against an external MongoDB')
  process.exit(0)
}

const QUERY_TIMEOUT_MS = 300
// The auth-server reads the store directly: this test is about the gateway's own queries.
const { embedded, proxy, gateway, base } = await startCutStoreSystem(t, { database: 'deadlines', config: { mongodbQueryTimeoutMs: QUERY_TIMEOUT_MS } })

const admin = { authorization: 'Bearer demo-admin-token' }
const nodeKey = demoNodeKey('node-moscow-1')
let partners = 0
let servers = 0
const sig = testSigner(Date.now).sign({ own: 'acct-demo' })

interface Answer { status: number, code?: string, retryAfter?: string }

async function post (url: string, body: string, headers: Record<string, string>): Promise<Parameters<typeof answerOf>[0]> {
  const answer = await request(url, { method: 'POST', body, headers, headersTimeout: 30_000 })
  const text = await answer.body.text()
  return { status: answer.statusCode, headers: answer.headers as Record<string, string>, json: () => JSON.parse(text) }
}
const postJson = async (url: string, body: unknown, headers: Record<string, string> = {}): Promise<Parameters<typeof answerOf>[0]> =>
  await post(url, JSON.stringify(body), { 'content-type': 'application/json', ...headers })
const postForm = async (url: string, body: string): Promise<Parameters<typeof answerOf>[0]> =>
  await post(url, body, { 'content-type': 'application/x-www-form-urlencoded' })

/** Each route family, as its callers send it. */
const families: Record<string, () => Promise<Answer>> = {
  'admin read': async () => answerOf(await get(`${base}/api/v1/nodes`, { headers: admin })),
  'admin write': async () => answerOf(await postJson(`${base}/api/v1/partners`, { _id: `p-${++partners}`, name: 'P', pattern_fallbacks: {} }, admin)),
  'admin tokens': async () => answerOf(await get(`${base}/api/v1/tokens`, { headers: admin })),
  heartbeat: async () => answerOf(await postJson(`${base}/api/v1/nodes/node-moscow-1/heartbeat`, { sessions: 0, mbps: 0, cpu: 0 }, { authorization: `Bearer ${nodeKey}` })),
  'srs hook': async () => answerOf(await postJson(`${base}/hooks/srs?node=node-moscow-1&key=${nodeKey}`, {
    action: 'on_play', client_id: `c${Math.random()}`, ip: '203.0.113.7', vhost: '__defaultVhost__', app: 'live', stream: 'UIN-DEMO-1_cam-1', param: `?server=UIN-DEMO-1&camera=cam-1&sig=${sig}`, server_id: 's', tcUrl: 'rtmp://127.0.0.1/live', page_url: ''
  })),
  'nginx-rtmp hook': async () => answerOf(await postForm(`${base}/hooks/nginx-rtmp?node=node-moscow-1&key=${nodeKey}`,
    `app=live&addr=203.0.113.9&clientid=${Math.floor(Math.random() * 1e6)}&call=play&name=UIN-DEMO-1_cam-1&type=live&server=UIN-DEMO-1&camera=cam-1&sig=${sig}`)),
  'stream, server not cached': async () => answerOf(await get(`${base}/flv?server=UIN-NOT-CACHED-${++servers}&camera=cam-1&access_token=demo-admin-token`, { headers: { 'x-forwarded-for': '77.88.8.8' } }))
}

function answerOf (answer: { status: number, json: () => any, headers?: Record<string, string | string[] | undefined> }): Answer {
  let code: string | undefined
  try { code = answer.json().error?.code } catch {}
  const retryAfter = answer.headers?.['retry-after']
  return { status: answer.status, ...(code !== undefined && { code }), ...(typeof retryAfter === 'string' && { retryAfter }) }
}

async function timed (run: () => Promise<Answer>): Promise<Answer & { ms: number }> {
  const started = performance.now()
  const answer = await run()
  return { ...answer, ms: performance.now() - started }
}

async function checkEveryFamily (t: Test, how: string): Promise<void> {
  for (const [name, run] of Object.entries(families)) {
    const answers = [await timed(run), await timed(run), await timed(run), await timed(run)]
    for (const answer of answers) {
      if (name === 'heartbeat') {
        t.equal(answer.status, 200, `${how}, heartbeat: taken on this replica (${answer.code ?? ''})`)
        continue
      }
      t.equal(answer.status, 503, `${how}, ${name}: 503 (${answer.code ?? ''})`)
      t.equal(answer.code, 'GW_DEPENDENCY_DOWN')
      t.ok(Number(answer.retryAfter) > 0, 'with Retry-After')
    }
    const slowest = Math.max(...answers.map((a) => a.ms))
    t.comment(`${how}, ${name}: ${answers.map((a) => a.ms.toFixed(0)).join(', ')} ms`)
    // Never the driver's 5 s or 30 s: at most the deadline and a margin for a loaded machine.
    t.ok(slowest < QUERY_TIMEOUT_MS + 2000, `${how}, ${name}: within the deadline, not the driver's timeouts`)
  }
  const verify = await get(`${base}/verify`, { headers: { 'x-original-uri': `/flv?server=UIN-DEMO-1&camera=cam-1&sig=${sig}`, 'x-geogate-node': 'node-moscow-1', authorization: `Bearer ${demoNodeKey('node-moscow-1')}` } })
  t.equal(verify.status, 204, `${how}, /verify: still answers, from the signature alone`)
}

t.test('each route family answers before the outage', async (t) => {
  for (const [name, run] of Object.entries(families)) {
    const answer = await run()
    t.ok(answer.status < 500, `${name}: ${answer.status} ${answer.code ?? ''}`)
  }
})

t.test('a store that accepts connections and never answers', async (t) => {
  proxy.mode('blackhole')
  await checkEveryFamily(t, 'black hole')
  t.equal(gateway.storeHealth.state(), 'down', 'the gateway knows the store is down')
  proxy.mode('pass')
})

t.test('the store stopped', async (t) => {
  await embedded.stop()
  await checkEveryFamily(t, 'stopped')
})
