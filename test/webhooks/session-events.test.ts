// Session events end to end: a partner registers a webhook through the admin API, and a
// receiver on loopback, checking each call's HMAC with the shared secret, is told of the start
// and end of a hook play and of an HLS session, each from a real redirect's grant. A receiver
// that never answers, or fails, holds up no redirect, hook answer or /verify; failed calls are
// retried; what the bounded queue cannot hold is counted in /metrics; the secret is in no answer,
// audit entry or log line. Time moves by the test's clock; two replicas sweep one store.

import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import { request } from 'undici'
import { hashToken } from '../../src/auth/token-hash.js'
import type { Config } from '../../src/config.js'
import { demoNodeKey } from '../../src/demo/demo-data.js'
import { createGateway, type Gateway } from '../../src/gateway.js'
import { get, markDemoNodesAlive, startSystem, type Answer } from '../helpers/system.js'
import { postJson, testSigner } from '../handlers/node/hook-fixtures.js'
import { startReceiver, waitFor, type Receiver, type ReceiverOptions } from './receiver.js'

const SECRET = 'partner-demo-webhook-secret-0123456789abcdef'
const ADMIN = 'demo-admin-token'
const VIEWER = 'demo-viewer-token'
const LONDON = '81.2.69.160'
const NODE = 'node-london-1'
const IDLE_S = 10
const GRACE_MS = 60_000

let clock = Date.parse('2030-01-01T00:00:00Z')
const now = (): number => clock
const logLines: string[] = []
const logStream = new Writable({ write (chunk, _encoding, done) { logLines.push(String(chunk)); done() } })
const settings: Partial<Config> = {
  hlsIdleS: IDLE_S,
  sessionSweepMs: 50,
  webhookRetryMs: 20,
  webhookRetryMaxMs: 100,
  webhookAttempts: 3,
  webhookTimeoutMs: 60_000
}
const system = await startSystem(t, { now, config: settings, logger: { level: 'debug', stream: logStream } })
const gateways: Gateway[] = [system.gateway]

async function admin (method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown): Promise<{ status: number, text: string, json: any }> {
  const res = await request(`${system.gatewayUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) })
  })
  const text = await res.body.text()
  return { status: res.statusCode, text, json: text === '' ? null : JSON.parse(text) }
}

/** The demo partner's webhooks point at a new receiver, on every replica's routing view. */
async function receiverForDemo (t: Test, options: Omit<ReceiverOptions, 'secret'> = {}): Promise<Receiver> {
  const receiver = await startReceiver(t, { secret: SECRET, ...options })
  const answer = await admin('PATCH', '/partners/demo', { webhooks: [{ url: `${receiver.url}/geogate/events?partner=demo`, secret: SECRET }] })
  t.equal(answer.status, 200, answer.text)
  await Promise.all(gateways.map(async (gateway) => await gateway.refreshSnapshot()))
  return receiver
}

/** A redirect for the demo viewer in London: the node's URL, signed for it. */
async function redirect (base = system.gatewayUrl): Promise<URL> {
  const answer = await get(`${base}/flv?server=UIN-DEMO-1&camera=cam-1&access_token=${VIEWER}`, { headers: { 'x-forwarded-for': LONDON } })
  if (answer.status !== 302) throw new Error(`redirect: ${answer.status} ${answer.body}`)
  return new URL(String(answer.headers.location))
}

const signer = testSigner(now)
let grants = 0
/**
 * An HLS grant for the London node as the gateway signs one for the demo viewer (its token's id
 * included); the HLS redirect itself goes through content steering, tested on its own.
 */
function hlsUrl (): URL {
  const grant = signer.sign({ aud: NODE, own: 'acct-demo', fmt: 'hls', jti: `webhook-hls-${++grants}`, tid: hashToken(VIEWER) })
  return new URL(`https://london-1.nodes.geogate.test/hls/${grant}/UIN-DEMO-1/cam-1/index.m3u8`)
}

function srsHook (action: 'on_play' | 'on_stop', clientId: string, played: URL, base = system.gatewayUrl): Promise<{ status: number, json: () => any }> {
  return postJson(`${base}/hooks/srs?node=${NODE}&key=${demoNodeKey(NODE)}`, {
    action, client_id: clientId, ip: LONDON, vhost: '__defaultVhost__', app: 'live', stream: 'UIN-DEMO-1_cam-1', param: played.search, server_id: 'vid-1', tcUrl: 'rtmp://127.0.0.1/live', page_url: ''
  })
}

function verifyHls (played: URL, file = 'index.m3u8', base = system.gatewayUrl): Promise<Answer> {
  const uri = played.pathname.replace(/[^/]*$/, file)
  return get(`${base}/verify`, {
    headers: { 'x-original-uri': uri, 'x-geogate-node': NODE, 'x-real-ip': LONDON, authorization: `Bearer ${demoNodeKey(NODE)}` }
  })
}

/** Moves the clock; the demo nodes heartbeat at the new time, and every replica sees it. */
async function advance (ms: number): Promise<void> {
  clock += ms
  await markDemoNodesAlive(system.store, new Date(clock))
  await Promise.all(gateways.map(async (gateway) => await gateway.refreshSnapshot()))
}

const eventsOf = (receiver: Receiver, session: string): any[] => receiver.received.map((call) => call.json).filter((event) => event?.session === session)

t.test('a partner registers a webhook; its secret is kept to sign with and shown nowhere', async (t) => {
  const receiver = await receiverForDemo(t)
  const stored = await system.store.collections.partners.findOne({ _id: 'demo' })
  t.same(stored?.webhooks, [{ url: `${receiver.url}/geogate/events?partner=demo`, secret: SECRET }], 'stored with its secret')

  const shown = await admin('GET', '/partners/demo')
  t.same(shown.json.webhooks, [{ url: `${receiver.url}/geogate/events?partner=demo` }])
  t.notMatch(shown.text, SECRET)
  t.notMatch((await admin('GET', '/partners')).text, SECRET)

  const renamed = await admin('PATCH', '/partners/demo', { name: 'Demo partner' })
  t.equal(renamed.status, 200)
  t.notMatch(renamed.text, SECRET)
  const kept = await admin('PATCH', '/partners/demo', { webhooks: [{ url: `${receiver.url}/geogate/events?partner=demo`, key_id: 'geogate' }] })
  t.equal(kept.status, 200, 'a URL already registered keeps its secret when the write leaves it out')
  t.equal((await system.store.collections.partners.findOne({ _id: 'demo' }))?.webhooks?.[0]?.secret, SECRET)

  const refused: Array<[string, unknown]> = [
    ['a new URL without a secret', [{ url: 'https://billing.example/events' }]],
    ['a secret under 32 characters', [{ url: 'https://billing.example/events', secret: 'short' }]],
    ['an ftp URL', [{ url: 'ftp://billing.example/events', secret: SECRET }]],
    ['credentials in the URL', [{ url: 'https://user:pw@billing.example/events', secret: SECRET }]],
    ['one URL twice', [{ url: 'https://billing.example/a', secret: SECRET }, { url: 'https://billing.example/a', secret: SECRET }]],
    ['five webhooks', Array.from({ length: 5 }, (_, i) => ({ url: `https://billing.example/${i}`, secret: SECRET }))],
    ['a key id with a space', [{ url: 'https://billing.example/events', key_id: 'a b', secret: SECRET }]]
  ]
  for (const [what, webhooks] of refused) {
    const answer = await admin('PATCH', '/partners/demo', { webhooks })
    t.equal(answer.status, 400, what)
    t.notMatch(answer.text, SECRET, `${what}: the answer does not repeat the secret`)
  }
  const created = await admin('POST', '/partners', { _id: 'no-secret', webhooks: [{ url: 'https://billing.example/events' }] })
  t.equal(created.status, 400)
  t.equal((await admin('GET', '/partners/no-secret')).status, 404, 'nothing stored')
  t.same((await system.store.collections.partners.findOne({ _id: 'demo' }))?.webhooks, [{ url: `${receiver.url}/geogate/events?partner=demo`, key_id: 'geogate', secret: SECRET }], 'the refused writes changed nothing')

  const audit = await admin('GET', '/audit?collection=partners&id=demo')
  t.ok(audit.json.items.length >= 3)
  t.notMatch(audit.text, SECRET, 'the audit trail shows the URLs, never the secret')
})

t.test('a hook play: its start and end, signed, to the partner\'s webhook', async (t) => {
  const receiver = await receiverForDemo(t)
  const started = clock
  const played = await redirect()
  t.same((await srsHook('on_play', 'webhook-play-1', played)).json(), { code: 0 })
  await advance(42_000)
  t.same((await srsHook('on_stop', 'webhook-play-1', played)).json(), { code: 0 })
  const session = `${NODE}:webhook-play-1`
  await waitFor('the start and the end', () => eventsOf(receiver, session).length === 2)
  t.ok(receiver.received.every((call) => call.signed), 'every call\'s HMAC holds for the shared secret')
  t.ok(receiver.received.every((call) => call.url === '/geogate/events?partner=demo' && call.method === 'POST'))
  const [start, end] = ['session.started', 'session.ended'].map((kind) => eventsOf(receiver, session).find((event) => event.event === kind))
  t.same(start, {
    event: 'session.started',
    id: `${session}/${started}/started`,
    session,
    partner: 'demo',
    owner: 'acct-demo',
    token: hashToken(VIEWER),
    server: 'UIN-DEMO-1',
    camera: 'cam-1',
    node: NODE,
    format: 'flv',
    country: 'GB',
    started_at: new Date(started).toISOString(),
    ended_at: null,
    duration_s: null,
    bytes: null,
    reason: null
  })
  t.match(end, {
    event: 'session.ended',
    id: `${session}/${started}/ended`,
    session,
    token: hashToken(VIEWER),
    ended_at: new Date(started + 42_000).toISOString(),
    duration_s: 42,
    reason: 'stopped'
  })
  t.same((await srsHook('on_stop', 'webhook-play-1', played)).json(), { code: 0 }, 'a second stop')
  await waitFor('the queue to drain', () => receiver.held === 0)
  t.equal(eventsOf(receiver, session).length, 2, 'is told nothing more')
})

t.test('an HLS session: its start at its first /verify, its end by the sweep of whichever replica took it', async (t) => {
  const replica = await createGateway({ config: system.config, store: system.store, now, defaultMetrics: false })
  t.teardown(() => replica.close())
  const replicaUrl = await replica.app.listen({ host: '127.0.0.1', port: 0 })
  gateways.push(replica)
  t.teardown(() => { gateways.pop() })
  const receiver = await receiverForDemo(t)

  const played = hlsUrl()
  const started = clock
  t.equal((await verifyHls(played)).status, 204)
  t.equal((await verifyHls(played, 'seg-1.ts', replicaUrl)).status, 204, 'a segment through the other replica continues it')
  await waitFor('the start', () => receiver.received.some((call) => call.json?.event === 'session.started' && call.json.format === 'hls'))
  const start = receiver.received.map((call) => call.json).find((event) => event.event === 'session.started' && event.format === 'hls')
  t.match(start, { partner: 'demo', owner: 'acct-demo', token: hashToken(VIEWER), node: NODE, format: 'hls', country: 'GB', started_at: new Date(started).toISOString() })

  // Idle past its lease and the sweeper's grace: both replicas sweep every 50 ms.
  await advance(IDLE_S * 1000 + GRACE_MS + 1000)
  await waitFor('the end', () => eventsOf(receiver, start.session).length === 2)
  t.equal(await system.store.collections.sessions.countDocuments({ _id: start.session }), 0)
  const end = eventsOf(receiver, start.session).find((event) => event.event === 'session.ended')
  t.match(end, { reason: 'expired', ended_at: new Date(started + IDLE_S * 1000).toISOString(), duration_s: IDLE_S })
  // Both replicas have swept since; neither tells it again.
  const metrics = async (url: string): Promise<string> => (await get(`${url}/metrics`)).body
  await waitFor('both queues empty', () => receiver.held === 0)
  for (const url of [system.gatewayUrl, replicaUrl]) t.match(await metrics(url), /geogate_webhook_queue 0/)
  t.equal(eventsOf(receiver, start.session).length, 2, 'told once, by one replica')
})

t.test('a receiver that never answers delays no redirect, hook answer or /verify', async (t) => {
  const receiver = await receiverForDemo(t, { answer: () => 'hold' })
  const flv = await redirect()
  t.same((await srsHook('on_play', 'held-1', flv)).json(), { code: 0 })
  await waitFor('the first call to be held', () => receiver.held >= 1)
  // While the receiver holds the start, everything else is answered.
  for (let i = 2; i <= 5; i++) t.same((await srsHook('on_play', `held-${i}`, await redirect())).json(), { code: 0 })
  for (let i = 1; i <= 5; i++) t.same((await srsHook('on_stop', `held-${i}`, flv)).json(), { code: 0 })
  const hls = hlsUrl()
  t.equal((await verifyHls(hls)).status, 204)
  t.equal((await verifyHls(hls, 'seg-1.ts')).status, 204)
  t.ok(receiver.held >= 1, 'the receiver still holds a call: none of the answers waited for it')
  receiver.release()
  await waitFor('every event', () => receiver.received.filter((call) => /^held-/.test(String(call.json?.session).split(':')[1] ?? '')).length === 10)
})

t.test('a failing receiver is retried, and no answer waits for it', async (t) => {
  const receiver = await receiverForDemo(t, { answer: (n) => n % 2 === 0 ? 500 : 204 })
  const played = await redirect()
  t.same((await srsHook('on_play', 'failing-1', played)).json(), { code: 0 })
  t.same((await srsHook('on_stop', 'failing-1', played)).json(), { code: 0 })
  const session = `${NODE}:failing-1`
  await waitFor('both events delivered', () => receiver.received.filter((call) => call.json?.session === session).length >= 3)
  const ids = receiver.received.filter((call) => call.json?.session === session).map((call) => call.json.id)
  t.ok(ids.length > new Set(ids).size, 'an event was sent again, with the same id')
  t.match((await get(`${system.gatewayUrl}/metrics`)).body, /geogate_webhook_calls_total\{partner="demo",result="failed"\} [1-9]/)
})

t.test('what the bounded queue cannot hold is dropped and counted', async (t) => {
  const small = await createGateway({ config: { ...system.config, webhookQueueMax: 1, webhookConnections: 1 }, store: system.store, now, defaultMetrics: false })
  t.teardown(() => small.close())
  const smallUrl = await small.app.listen({ host: '127.0.0.1', port: 0 })
  gateways.push(small)
  t.teardown(() => { gateways.pop() })
  const receiver = await receiverForDemo(t, { answer: () => 'hold' })
  const played = await redirect(smallUrl)
  for (let i = 1; i <= 4; i++) t.same((await srsHook('on_play', `small-${i}`, played, smallUrl)).json(), { code: 0 })
  await waitFor('a call held', () => receiver.held >= 1)
  const scraped = (await get(`${smallUrl}/metrics`)).body
  const dropped = /geogate_webhook_dropped_total\{partner="demo",reason="queue_full"\} (\d+)/.exec(scraped)
  t.ok(Number(dropped?.[1]) >= 1, `dropped and counted: ${dropped?.[0] ?? 'no series'}`)
  t.match(scraped, /geogate_webhook_queue 1/)
  receiver.release()
})

t.test('the secret never reached a log line', async (t) => {
  t.ok(logLines.length > 0, 'the gateway logged')
  t.notOk(logLines.some((line) => line.includes(SECRET)))
})
