// GET /verify, as nginx auth_request calls it: 204 for a signature good for this node, camera
// and format; 401 when it is missing or bad; 403 when it is good but meant for something
// else; 400 when the node's own headers are missing or malformed. And key rotation: a URL
// signed with a key listed second still verifies, until the key is removed.

import t from 'tap'
import type { Config } from '../../../src/config.js'
import { demoNodeKey } from '../../../src/demo/demo-data.js'
import { createGateway } from '../../../src/gateway.js'
import { cityFixture } from '../../fixtures/mmdb/paths.js'
import { get, markDemoNodesAlive, startSystem, type Answer } from '../../helpers/system.js'
import { NODE, testSigner } from './hook-fixtures.js'

let clock = Date.parse('2030-01-01T00:00:00Z')
const now = (): number => clock
const system = await startSystem(t, { now })
const signer = testSigner(now)

/** Another gateway on the same store; the small City fixture keeps it quick to build. */
async function gatewayWith (config: Partial<Config>): Promise<string> {
  const gateway = await createGateway({ config: { ...system.config, cityDatabase: cityFixture, ...config }, store: system.store, now, defaultMetrics: false })
  t.teardown(() => gateway.close())
  return await gateway.app.listen({ host: '127.0.0.1', port: 0 })
}

/** null leaves the header out; the node's nginx sends its key, as the README configures it. */
function verify (uri: string | null, node: string | null = NODE, extra: Record<string, string> = {}, base = system.gatewayUrl): Promise<Answer> {
  return get(`${base}/verify`, {
    headers: { ...(uri !== null && { 'x-original-uri': uri }), ...(node !== null && { 'x-geogate-node': node, authorization: `Bearer ${demoNodeKey(node)}` }), ...extra }
  })
}

const flvUri = (sig: string, camera = 'cam-1'): string => `/flv?server=UIN-DEMO-1&camera=${camera}&sig=${sig}`

t.test('a good signature answers 204 with no body, for every format path', async (t) => {
  const flv = await verify(flvUri(signer.sign({ own: 'acct-demo' })))
  t.equal(flv.status, 204)
  t.equal(flv.body, '')
  const hls = signer.sign({ own: 'acct-demo', fmt: 'hls' })
  for (const file of ['index.m3u8', 'seg-17.ts', '720p/index.m3u8']) {
    t.equal((await verify(`/hls/${hls}/UIN-DEMO-1/cam-1/${file}`, NODE, { 'x-real-ip': '198.51.100.20' })).status, 204, file)
  }
  const ws = signer.sign({ own: 'acct-demo', fmt: 'ws-fmp4' })
  t.equal((await verify(`/ws-fmp4?camera=cam-1&sig=${ws}&server=UIN-DEMO-1`)).status, 204, 'parameters in any order')
})

t.test('the URL the gateway redirects to verifies at the node it names', async (t) => {
  const answer = await get(`${system.gatewayUrl}/flv?server=UIN-DEMO-1&camera=cam-2&access_token=demo-viewer-token`, { headers: { 'x-forwarded-for': '77.88.8.8' } })
  t.equal(answer.status, 302)
  const location = new URL(String(answer.headers.location))
  const node = location.host.startsWith('moscow-1') ? 'node-moscow-1' : 'node-moscow-2'
  t.equal((await verify(`${location.pathname}${location.search}`, node)).status, 204)
  t.equal((await verify(`${location.pathname}${location.search}`, 'node-london-1')).status, 403, 'not at another node')
})

t.test('401: missing, malformed, tampered, expired or unknown-key signatures', async (t) => {
  const good = signer.sign({ own: 'acct-demo' })
  const [header = '', payload = '', signature = ''] = good.split('.')
  const flipped = `${signature.slice(0, 10)}${signature[10] === 'x' ? 'y' : 'x'}${signature.slice(11)}`
  const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), own: 'someone-else' })).toString('base64url')
  const cases: Array<[string, string, string]> = [
    ['no signature', '/flv?server=UIN-DEMO-1&camera=cam-1', 'GW_TOKEN_MISSING'],
    ['garbage', flvUri('garbage'), 'GW_TOKEN_INVALID'],
    ['a tampered signature', flvUri(`${header}.${payload}.${flipped}`), 'GW_TOKEN_INVALID'],
    ['tampered claims', flvUri(`${header}.${forged}.${signature}`), 'GW_TOKEN_INVALID'],
    ['a key nobody configured', flvUri(testSigner(now, 'test-9=HS256:some-other-secret-of-at-least-32-bytes!!').sign({ own: 'acct-demo' })), 'GW_TOKEN_INVALID'],
    ['two signatures', `${flvUri(good)}&sig=${good}`, 'GW_TOKEN_INVALID']
  ]
  for (const [name, uri, code] of cases) {
    const answer = await verify(uri)
    t.equal(answer.status, 401, name)
    t.equal(answer.json().error.code, code, name)
  }
  t.equal((await verify(flvUri(good))).status, 204, 'the untouched signature still passes')
  clock += 59_000
  t.equal((await verify(flvUri(good))).status, 204, 'good until the second of its expiry')
  clock += 1000
  const expired = await verify(flvUri(good))
  t.equal(expired.status, 401, 'expired from exp on')
  t.match(expired.json().error.message, /expired/)
})

t.test('403: a good signature for another node, camera or format', async (t) => {
  const sig = signer.sign({ own: 'acct-demo' })
  const cases: Array<[string, string, string]> = [
    ['another node', flvUri(sig), 'node-london-1'],
    ['another camera in the URI', flvUri(sig, 'cam-2'), NODE],
    ['no camera in the URI', `/flv?server=UIN-DEMO-1&sig=${sig}`, NODE],
    ['the camera twice', `${flvUri(sig)}&camera=cam-1`, NODE],
    ['another format', `/hls/${sig}/UIN-DEMO-1/cam-1/index.m3u8`, NODE],
    ['a path that only ends up at /flv', `/hls/../flv?server=UIN-DEMO-1&camera=cam-1&sig=${sig}`, NODE],
    ['a path that escapes /flv', `/flv/../ws-fmp4?server=UIN-DEMO-1&camera=cam-1&sig=${sig}`, NODE],
    ['an encoded path', `/fl%76?server=UIN-DEMO-1&camera=cam-1&sig=${sig}`, NODE],
    ['a path that is no stream', `/admin?server=UIN-DEMO-1&camera=cam-1&sig=${sig}`, NODE]
  ]
  for (const [name, uri, node] of cases) {
    const answer = await verify(uri, node, { 'x-real-ip': '198.51.100.21' })
    t.equal(answer.status, 403, name)
    t.equal(answer.json().error.code, 'GW_FORBIDDEN', name)
  }
})

t.test('400: the node\'s headers missing or malformed', async (t) => {
  const uri = flvUri(signer.sign({ own: 'acct-demo' }))
  const cases: Array<[string, string | null, string | null]> = [
    ['no X-Original-URI', null, NODE],
    ['no X-Geogate-Node', uri, null],
    ['a node id that is no id', uri, 'node one'],
    ['a URI that is no path', `http://elsewhere${uri}`, NODE],
    ['a URI too long', `${uri}&pad=${'p'.repeat(8192)}`, NODE]
  ]
  for (const [name, u, node] of cases) {
    const answer = await verify(u, node)
    t.equal(answer.status, 400, name)
    t.equal(answer.json().error.code, 'GW_BAD_REQUEST', name)
  }
})

t.test('client address binding is checked against X-Real-IP only when VERIFY_REAL_IP is on', async (t) => {
  const bound = flvUri(signer.sign({ own: 'acct-demo', cip: '203.0.113.7' }))
  t.equal((await verify(bound)).status, 204, 'off: nginx is the peer, the binding cannot be checked here')
  const checking = await gatewayWith({ verifyRealIp: true })
  t.equal((await verify(bound, NODE, { 'x-real-ip': '203.0.113.7' }, checking)).status, 204)
  t.equal((await verify(bound, NODE, { 'x-real-ip': '::ffff:203.0.113.7' }, checking)).status, 204, 'a v4-mapped address is the same client')
  t.equal((await verify(bound, NODE, { 'x-real-ip': '198.51.100.1' }, checking)).status, 403)
  t.equal((await verify(bound, NODE, {}, checking)).status, 400, 'on: the header is required')
  t.equal((await verify(flvUri(signer.sign({ own: 'acct-demo' })), NODE, { 'x-real-ip': '198.51.100.1' }, checking)).status, 204, 'an unbound signature')
})

t.test('key rotation: an old key verifies while listed second, and not once removed', async (t) => {
  const NEW = 'rot-new=HS256:rotation-test-new-secret-0123456789abcdef'
  const OLD = 'rot-old=HS256:rotation-test-old-secret-0123456789abcdef'
  const signedOld = flvUri(testSigner(now, OLD).sign({ own: 'acct-demo' }))
  await markDemoNodesAlive(system.store, new Date(clock)) // earlier tests moved the clock past NODE_TTL
  const before = await gatewayWith({ signingKeys: OLD })
  const rotating = await gatewayWith({ signingKeys: `${NEW},${OLD}` })
  const after = await gatewayWith({ signingKeys: NEW })
  t.equal((await verify(signedOld, NODE, {}, before)).status, 204, 'before the rotation')
  t.equal((await verify(signedOld, NODE, {}, rotating)).status, 204, 'during: the old key is listed second')
  t.equal((await verify(signedOld, NODE, {}, after)).status, 401, 'after: the old key is gone')

  const redirect = await get(`${rotating}/flv?server=UIN-DEMO-1&camera=cam-1&access_token=demo-viewer-token`, { headers: { 'x-forwarded-for': '81.2.69.160' } })
  t.equal(redirect.status, 302)
  const location = new URL(String(redirect.headers.location))
  const sig = location.searchParams.get('sig') ?? ''
  t.equal(JSON.parse(Buffer.from(sig.split('.')[0] ?? '', 'base64url').toString()).kid, 'rot-new', 'the first key signs')
  const uri = `${location.pathname}${location.search}`
  t.equal((await verify(uri, 'node-london-1', {}, after)).status, 204, 'new signatures verify after the old key is gone')
  t.equal((await verify(uri, 'node-london-1', {}, before)).status, 401, 'and not where only the old key is known')
})
