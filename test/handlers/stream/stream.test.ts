// The stream request end to end: real resolver and auth-server processes, the embedded store,
// the bundled GeoLite2 database, and the gateway over HTTP.

import t, { type Test } from 'tap'
import type { CommandStartedEvent } from 'mongodb'
import { parseSigningKeys } from '../../../src/signing/keys.js'
import { createStreamVerifier } from '../../../src/signing/stream-signature.js'
import { hashToken } from '../../../src/auth/token-hash.js'
import { errorRegistry } from '../../../src/errors.js'
import { get, startSystem, TEST_SIGNING_KEYS } from '../../helpers/system.js'

const MOSCOW = '77.88.8.8'
const LONDON = '81.2.69.160'
const viewer = 'demo-viewer-token'
const limited = 'demo-limited-token'
const admin = 'demo-admin-token'

// The gateway's housekeeping (the session guard every 3 s, the poll for ended sessions every
// second, the sweeper) reads the sessions, tokens and accounts on timers of its own; off here,
// where a test counts the store queries that requests cause.
const system = await startSystem(t, { config: { sessionGuardMs: 0, sessionEndPollMs: 0, sessionSweepMs: 0 } })
const base = system.gatewayUrl
const seen = new Set<string>()

function streamUrl (path: string, query: Record<string, string>): string {
  return `${base}${path}?${new URLSearchParams(query).toString()}`
}

async function expectError (t: Test, url: string, status: number, code: string, headers: Record<string, string> = {}): Promise<void> {
  const answer = await get(url, { headers })
  t.equal(answer.status, status, `${code}: status`)
  t.equal(answer.json().error.code, code, `${code}: code`)
  t.type(answer.json().error.message, 'string')
  t.equal(answer.headers['cache-control'], 'no-store')
  if (status === 503 || status === 429) t.match(answer.headers['retry-after'], /^\d+$/, `${code}: Retry-After`)
  seen.add(code)
}

t.test('a client in Moscow is sent to a Moscow node', async (t) => {
  const answer = await get(streamUrl('/flv', { server: 'UIN-DEMO-1', camera: 'cam-1', access_token: viewer }), { headers: { 'x-forwarded-for': MOSCOW } })
  t.equal(answer.status, 302)
  const location = new URL(String(answer.headers.location))
  t.match(location.host, /^moscow-[12]\.nodes\.geogate\.test$/)
  t.equal(location.protocol, 'https:')
  t.equal(location.pathname, '/flv')
  t.equal(location.searchParams.get('server'), 'UIN-DEMO-1')
  t.equal(location.searchParams.get('camera'), 'cam-1')
  t.equal(answer.headers['cache-control'], 'no-store')
  t.equal(answer.headers['access-control-allow-origin'], '*')
})

t.test('a client in Great Britain is sent to the London node', async (t) => {
  const answer = await get(streamUrl('/flv', { server: 'UIN-DEMO-1', camera: 'cam-1', access_token: viewer }), { headers: { 'x-forwarded-for': LONDON } })
  t.equal(answer.status, 302)
  t.equal(new URL(String(answer.headers.location)).host, 'london-1.nodes.geogate.test')
})

t.test('the signature verifies with the configured key and carries the claims of a signed URL', async (t) => {
  const before = Math.floor(Date.now() / 1000)
  // steering=off: the 302 straight to the node (steering.test.ts follows geogate's multivariant playlist).
  const answer = await get(streamUrl('/hls', { server: 'UIN-DEMO-1', camera: 'cam-2', access_token: viewer, steering: 'off' }), { headers: { 'x-forwarded-for': LONDON } })
  t.equal(answer.status, 302)
  const location = new URL(String(answer.headers.location))
  // HLS carries the grant in the path, so that relative segment URIs carry it too.
  const [, hls, sig = '', server, camera, file] = location.pathname.split('/')
  t.same([hls, server, camera, file], ['hls', 'UIN-DEMO-1', 'cam-2', 'index.m3u8'])
  t.equal(location.search, '')
  const header = JSON.parse(Buffer.from(sig.split('.')[0] ?? '', 'base64url').toString())
  t.equal(header.kid, 'test-1')
  t.equal(header.alg, 'HS256')
  const verifier = createStreamVerifier({ keys: parseSigningKeys(TEST_SIGNING_KEYS) })
  const claims = verifier.verify(sig, { audience: 'node-london-1', subject: 'UIN-DEMO-1/cam-2' })
  t.equal(claims.iss, 'gw-test')
  t.equal(claims.aud, 'node-london-1')
  t.equal(claims.sub, 'UIN-DEMO-1/cam-2')
  t.equal(claims.fmt, 'hls')
  t.equal(claims.own, 'acct-demo')
  t.match(claims.jti, /^[0-9a-f-]{36}$/)
  t.ok(claims.iat >= before && claims.iat <= before + 5)
  t.equal(claims.exp - claims.iat, 60)
  t.equal(claims.cip, undefined)
  const other = createStreamVerifier({ keys: parseSigningKeys('test-1=HS256:some-other-secret-of-at-least-32-bytes!!') })
  t.throws(() => other.verify(sig), 'another secret does not verify it')
})

t.test('JSON mode answers the URL, the node and its expiry', async (t) => {
  const variants: Array<{ query: Record<string, string>, headers: Record<string, string> }> = [{ query: { redirect: 'false' }, headers: {} }, { query: {}, headers: { accept: 'application/json' } }]
  for (const options of variants) {
    const answer = await get(streamUrl('/ws-fmp4', { server: 'UIN-DEMO-1', camera: 'cam-1', access_token: viewer, ...options.query }), { headers: { 'x-forwarded-for': MOSCOW, ...options.headers } })
    t.equal(answer.status, 200)
    const body = answer.json()
    t.match(body.url, /^wss:\/\/moscow-[12]\.nodes\.geogate\.test\/ws-fmp4\?server=UIN-DEMO-1&camera=cam-1&sig=/)
    t.match(body.node, { id: /^node-moscow-[12]$/, group: 'ru-central' })
    t.ok(Date.parse(body.expires_at) > Date.now())
    const other = body.node.id === 'node-moscow-1' ? 'node-moscow-2' : 'node-moscow-1'
    t.equal(body.alternates.length, 3, 'STEERING_PATHWAYS (3) alternates: the group\'s and its fallbacks\'')
    const alternate = new URL(body.alternates[0])
    t.equal(alternate.host, `${other.replace('node-', '')}.nodes.geogate.test`, 'the other Moscow node first')
    const altClaims = createStreamVerifier({ keys: parseSigningKeys(TEST_SIGNING_KEYS) }).verify(alternate.searchParams.get('sig') ?? '', { audience: other, subject: 'UIN-DEMO-1/cam-1' })
    t.equal(altClaims.fmt, 'ws-fmp4', 'the alternate is signed for its own node')
    t.equal(answer.headers['access-control-allow-origin'], '*')
  }
})

t.test('/stream takes the format as a parameter, and a bearer header stands for access_token', async (t) => {
  const answer = await get(streamUrl('/stream', { server: 'UIN-DEMO-1', camera: 'cam-1', format: 'hls', steering: 'off' }), { headers: { 'x-forwarded-for': MOSCOW, authorization: `Bearer ${viewer}` } })
  t.equal(answer.status, 302)
  t.match(String(answer.headers.location), /^https:\/\/moscow-[12]\.nodes\.geogate\.test\/hls\/[\w-]+\.[\w-]+\.[\w-]+\/UIN-DEMO-1\/cam-1\/index\.m3u8$/)
  await expectError(t, streamUrl('/stream', { server: 'UIN-DEMO-1', camera: 'cam-1', format: 'mp4', access_token: viewer }), 400, 'GW_BAD_REQUEST')
})

t.test('X-Forwarded-For from a peer outside TRUSTED_PROXIES is ignored', async (t) => {
  // Only 127.0.0.1 is trusted; from 127.0.0.2 the header is the client's own claim.
  const url = streamUrl('/flv', { server: 'UIN-DEMO-1', camera: 'cam-1', access_token: viewer, redirect: 'false' })
  const trusted = await get(url, { headers: { 'x-forwarded-for': MOSCOW }, from: '127.0.0.1' })
  t.equal(trusted.json().node.group, 'ru-central')
  const untrusted = await get(url, { headers: { 'x-forwarded-for': MOSCOW }, from: '127.0.0.2' })
  t.equal(untrusted.status, 200)
  t.equal(untrusted.json().node.group, 'eu-west', 'a loopback client with no location goes to the default group')
})

t.test('fromip routes as another address, for admin tokens only', async (t) => {
  const asAdmin = await get(streamUrl('/flv', { server: 'UIN-DEMO-1', camera: 'cam-1', access_token: admin, fromip: MOSCOW, redirect: 'false' }))
  t.equal(asAdmin.status, 200)
  t.equal(asAdmin.json().node.group, 'ru-central')
  await expectError(t, streamUrl('/flv', { server: 'UIN-DEMO-1', camera: 'cam-1', access_token: viewer, fromip: MOSCOW }), 403, 'GW_FORBIDDEN')
})

t.test('bad input gets 400 GW_BAD_REQUEST and runs no MongoDB query and no auth call', async (t) => {
  const commands: CommandStartedEvent[] = []
  const requestCollections = new Set(['servers', 'accounts', 'tariffs', 'sessions', 'tokens'])
  const listener = (event: CommandStartedEvent): void => {
    const collection = event.command[event.commandName]
    if (typeof collection === 'string' && requestCollections.has(collection)) commands.push(event)
  }
  system.store.client.on('commandStarted', listener)
  t.teardown(() => { system.store.client.off('commandStarted', listener) })

  const bad = [
    `${base}/flv?server[$ne]=x&camera=cam-1&access_token=${viewer}`,
    `${base}/flv?server=${'A'.repeat(65)}&camera=cam-1&access_token=${viewer}`,
    `${base}/flv?server=UIN-DEMO-1&access_token=${viewer}`,
    `${base}/flv?server=UIN-DEMO-1&server=UIN-DEMO-2&camera=cam-1&access_token=${viewer}`,
    `${base}/flv?server=UIN%20DEMO&camera=cam-1&access_token=${viewer}`,
    `${base}/flv?server=UIN-DEMO-1&camera=cam-1&access_token=${'x'.repeat(4097)}`,
    `${base}/flv?server=UIN-DEMO-1&camera=cam-1&access_token=${viewer}&pattern=${encodeURIComponent('{"$gt":""}')}`
  ]
  for (const url of bad) await expectError(t, url, 400, 'GW_BAD_REQUEST')
  t.equal(commands.length, 0, 'no query reached MongoDB')
  // A good request does query MongoDB, so the listener would have seen one.
  await get(streamUrl('/flv', { server: 'UIN-DEMO-1', camera: 'cam-2', access_token: limited }))
  t.ok(commands.length > 0, 'the listener sees the queries of a valid request')
})

t.test('401 for a missing or unknown token', async (t) => {
  await expectError(t, streamUrl('/flv', { server: 'UIN-DEMO-1', camera: 'cam-1' }), 401, 'GW_TOKEN_MISSING')
  await expectError(t, streamUrl('/flv', { server: 'UIN-DEMO-1', camera: 'cam-1', access_token: 'no-such-token' }), 401, 'GW_TOKEN_INVALID')
  await system.store.collections.tokens.insertOne({
    _id: hashToken('expired-token'), owner_type: 'account', owner_id: 'acct-demo', grants: [{ object_type: 'camera', object_id: '*', rights: ['view'] }], expires_at: new Date(Date.now() - 1000)
  })
  await expectError(t, streamUrl('/flv', { server: 'UIN-DEMO-1', camera: 'cam-1', access_token: 'expired-token' }), 401, 'GW_TOKEN_INVALID')
})

t.test('403 when the token may not view the camera', async (t) => {
  await expectError(t, streamUrl('/flv', { server: 'UIN-OTHER', camera: 'cam-1', access_token: viewer }), 403, 'GW_FORBIDDEN')
})

t.test('404 for an unknown server or camera, 503 for an offline one', async (t) => {
  await system.store.collections.servers.insertOne({ _id: 'UIN-OFF', partner: 'demo', owner: 'acct-demo', dc: 'msk', online: false, cameras: { 'cam-1': { online: true, streams: [] } } })
  await expectError(t, streamUrl('/flv', { server: 'UIN-NOPE', camera: 'cam-1', access_token: admin }), 404, 'GW_SERVER_NOT_FOUND')
  await expectError(t, streamUrl('/flv', { server: 'UIN-DEMO-1', camera: 'cam-9', access_token: viewer }), 404, 'GW_CAMERA_NOT_FOUND')
  await expectError(t, streamUrl('/flv', { server: 'UIN-DEMO-1', camera: 'constructor', access_token: viewer }), 404, 'GW_CAMERA_NOT_FOUND')
  await expectError(t, streamUrl('/flv', { server: 'UIN-OFF', camera: 'cam-1', access_token: admin }), 503, 'GW_SERVER_OFFLINE')
  await expectError(t, streamUrl('/flv', { server: 'UIN-DEMO-1', camera: 'cam-3', access_token: viewer }), 503, 'GW_CAMERA_OFFLINE')
})

t.test('402 when the account is suspended or the tariff lacks the pattern or format', async (t) => {
  await expectError(t, streamUrl('/flv', { server: 'UIN-DEMO-1', camera: 'cam-1', access_token: limited, pattern: 'analytics' }), 402, 'GW_BILLING_BLOCKED')
  await system.store.collections.tariffs.insertOne({ _id: 'flv-only', formats: ['flv'], patterns: ['streaming'], max_concurrent_streams: null })
  await system.store.collections.accounts.insertMany([
    { _id: 'acct-suspended', tariff: 'unlimited', status: 'suspended' },
    { _id: 'acct-flv', tariff: 'flv-only', status: 'active' }
  ])
  const grants = [{ object_type: 'camera', object_id: 'UIN-DEMO-1/*', rights: ['view'] }]
  await system.store.collections.tokens.insertMany([
    { _id: hashToken('suspended-token'), owner_type: 'account', owner_id: 'acct-suspended', grants, expires_at: null },
    { _id: hashToken('flv-token'), owner_type: 'account', owner_id: 'acct-flv', grants, expires_at: null }
  ])
  await expectError(t, streamUrl('/flv', { server: 'UIN-DEMO-1', camera: 'cam-1', access_token: 'suspended-token' }), 402, 'GW_BILLING_BLOCKED')
  await expectError(t, streamUrl('/hls', { server: 'UIN-DEMO-1', camera: 'cam-1', access_token: 'flv-token' }), 402, 'GW_BILLING_BLOCKED')
  const flv = await get(streamUrl('/flv', { server: 'UIN-DEMO-1', camera: 'cam-1', access_token: 'flv-token' }))
  t.equal(flv.status, 302, 'the format the tariff includes passes')
})

t.test('403 GW_GEO_BLOCKED when the camera\'s geo rule refuses the client\'s country', async (t) => {
  await system.store.collections.servers.insertOne({
    _id: 'UIN-GEO', partner: 'demo', owner: 'acct-demo', dc: 'msk', online: true, cameras: { 'cam-1': { online: true, streams: [], geo: { deny: ['RU'] } } }
  })
  const grants = [{ object_type: 'camera', object_id: 'UIN-GEO/*', rights: ['view'] }]
  await system.store.collections.tokens.insertOne({ _id: hashToken('geo-token'), owner_type: 'account', owner_id: 'acct-demo', grants, expires_at: null })
  await expectError(t, streamUrl('/flv', { server: 'UIN-GEO', camera: 'cam-1', access_token: 'geo-token' }), 403, 'GW_GEO_BLOCKED', { 'x-forwarded-for': MOSCOW })
  const london = await get(streamUrl('/flv', { server: 'UIN-GEO', camera: 'cam-1', access_token: 'geo-token' }), { headers: { 'x-forwarded-for': LONDON } })
  t.equal(london.status, 302, 'a country the rule does not name passes')
})

t.test('429 GW_TOKEN_LIMIT when the token already feeds as many viewers as its max_sessions', async (t) => {
  const grants = [{ object_type: 'camera', object_id: 'UIN-DEMO-1/*', rights: ['view'] }]
  const id = hashToken('shared-token')
  await system.store.collections.tokens.insertOne({ _id: id, owner_type: 'account', owner_id: 'acct-demo', grants, expires_at: null, max_sessions: 1 })
  // The one viewer it may feed, playing somewhere.
  await system.store.collections.sessionSlots.insertOne({ _id: `token/${id}#0`, owner: `token/${id}`, holder: 'node-london-1:c1', node: 'node-london-1', expires_at: new Date(Date.now() + 60_000) })
  await expectError(t, streamUrl('/flv', { server: 'UIN-DEMO-1', camera: 'cam-1', access_token: 'shared-token' }), 429, 'GW_TOKEN_LIMIT')
})

t.test('429 when the account is at its concurrent-stream limit', async (t) => {
  const now = Date.now()
  await system.store.collections.sessions.insertOne({
    _id: 'session-limited-1', owner: 'acct-limited', node: 'node-london-1', client_id: 'c1', server: 'UIN-DEMO-1', camera: 'cam-1', format: 'flv', started_at: new Date(now), expires_at: new Date(now + 60_000), slot: null, jti: 'j1'
  })
  // The billing cache holds the count briefly; a fresh owner view comes after its TTL.
  const deadline = Date.now() + 10_000
  let answer = await get(streamUrl('/flv', { server: 'UIN-DEMO-1', camera: 'cam-2', access_token: limited }))
  while (answer.status !== 429 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200))
    answer = await get(streamUrl('/flv', { server: 'UIN-DEMO-1', camera: 'cam-2', access_token: limited }))
  }
  await expectError(t, streamUrl('/flv', { server: 'UIN-DEMO-1', camera: 'cam-2', access_token: limited }), 429, 'GW_LIMIT_EXCEEDED')
})

t.test('503 GW_NO_NODE when no node serves the pattern anywhere', async (t) => {
  await expectError(t, streamUrl('/flv', { server: 'UIN-DEMO-1', camera: 'cam-1', access_token: viewer, pattern: 'analytics' }), 503, 'GW_NO_NODE')
})

t.test('with the auth-server down, an uncached token gets 503 GW_DEPENDENCY_DOWN, never a pass', async (t) => {
  await system.store.collections.tokens.insertOne({
    _id: hashToken('never-seen-token'), owner_type: 'account', owner_id: 'acct-demo', grants: [{ object_type: 'camera', object_id: '*', rights: ['view'] }], expires_at: null
  })
  await system.authServer.stop()
  await expectError(t, streamUrl('/flv', { server: 'UIN-DEMO-1', camera: 'cam-1', access_token: 'never-seen-token' }), 503, 'GW_DEPENDENCY_DOWN')
  const cached = await get(streamUrl('/flv', { server: 'UIN-DEMO-1', camera: 'cam-1', access_token: viewer }), { headers: { 'x-forwarded-for': MOSCOW } })
  t.equal(cached.status, 302, 'a cached grant still redirects')
})

t.test('every stream error code of the registry was produced over HTTP', async (t) => {
  // Stream routes are GETs without a body: the body errors (413, 415) belong to other routes,
  // a grant already in use or a session ended are the node's check (/verify), not the redirect's,
  // and a session gone is its steering manifest's (steering.test.ts).
  const streamCodes = Object.keys(errorRegistry).filter((code) => !['GW_NOT_FOUND', 'GW_CONFLICT', 'GW_BODY_TOO_LARGE', 'GW_UNSUPPORTED_MEDIA_TYPE', 'GW_INTERNAL', 'GW_SERVICE_UNAUTHORIZED', 'GW_GRANT_IN_USE', 'GW_SESSION_ENDED', 'GW_SESSION_GONE'].includes(code))
  for (const code of streamCodes) t.ok(seen.has(code), `${code} produced`)
})
