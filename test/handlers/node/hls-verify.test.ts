// GET /verify for HLS (docs/design.md section 4, "HLS sessions"): the grant in the path, a session that
// its requests keep alive past the grant's exp, counted against the tariff on every replica, and
// the paths and grants that must start nothing. Time moves by the test's clock.

import t from 'tap'
import type { Config } from '../../../src/config.js'
import { demoNodeKey } from '../../../src/demo/demo-data.js'
import { createGateway } from '../../../src/gateway.js'
import { cityFixture } from '../../fixtures/mmdb/paths.js'
import { get, startSystem, type Answer } from '../../helpers/system.js'
import { accountWithLimit, NODE, testSigner } from './hook-fixtures.js'

let clock = Date.parse('2030-01-01T00:00:00Z')
const now = (): number => clock
const IDLE_S = 10
const system = await startSystem(t, { now, config: { hlsIdleS: IDLE_S, hlsSessionMaxS: 600 } })
const signer = testSigner(now)

async function gatewayWith (config: Partial<Config>): Promise<string> {
  const gateway = await createGateway({ config: { ...system.config, cityDatabase: cityFixture, ...config }, store: system.store, now, defaultMetrics: false })
  t.teardown(() => gateway.close())
  return await gateway.app.listen({ host: '127.0.0.1', port: 0 })
}

function verify (uri: string, options: { node?: string, ip?: string | null, base?: string } = {}): Promise<Answer> {
  const ip = options.ip === undefined ? '198.51.100.1' : options.ip
  return get(`${options.base ?? system.gatewayUrl}/verify`, {
    headers: { 'x-original-uri': uri, 'x-geogate-node': options.node ?? NODE, authorization: `Bearer ${demoNodeKey(options.node ?? NODE)}`, ...(ip !== null && { 'x-real-ip': ip }) }
  })
}

const hlsUri = (grant: string, file = 'index.m3u8', camera = 'cam-1'): string => `/hls/${grant}/UIN-DEMO-1/${camera}/${file}`
let jtis = 0
const hlsGrant = (own: string, extra: Record<string, string> = {}): string => signer.sign({ own, fmt: 'hls', jti: `hls-jti-${++jtis}`, ...extra })

t.test('a session goes on past its grant\'s exp while requests keep coming, and ends when idle', async (t) => {
  const owner = await accountWithLimit(system, null)
  const grant = hlsGrant(owner)
  t.equal((await verify(hlsUri(grant))).status, 204, 'the playlist starts the session')
  // Segments every 2 s for 3 minutes: three times the grant's 60 s.
  for (let s = 0; s < 90; s++) {
    clock += 2000
    const answer = await verify(hlsUri(grant, `seg-${s}.ts`))
    if (answer.status !== 204) {
      t.fail(`segment ${s} at +${2 * (s + 1)} s: ${answer.status} ${answer.body}`)
      break
    }
  }
  clock += IDLE_S * 1000 + 1000
  const late = await verify(hlsUri(grant, 'seg-90.ts'))
  t.equal(late.status, 401, 'idle longer than HLS_IDLE_S: over, and the grant cannot start another')
  t.match(late.json().error, { code: 'GW_TOKEN_INVALID', message: /expired/ })
})

t.test('a grant first used after its exp starts nothing', async (t) => {
  const owner = await accountWithLimit(system, 1)
  const grant = hlsGrant(owner)
  clock += 60_000
  const answer = await verify(hlsUri(grant))
  t.equal(answer.status, 401)
  t.equal(await system.store.collections.sessions.countDocuments({ owner }), 0)
})

t.test('refused: tampered grants, another camera, node or format, paths that leave the prefix', async (t) => {
  const owner = await accountWithLimit(system, null)
  const grant = hlsGrant(owner)
  const [header = '', payload = '', signature = ''] = grant.split('.')
  const flipped = `${signature.slice(0, 10)}${signature[10] === 'x' ? 'y' : 'x'}${signature.slice(11)}`
  const flv = signer.sign({ own: owner, fmt: 'flv' })
  const other = hlsGrant(owner, { sub: 'UIN-DEMO-1/cam-2' })
  const cases: Array<[string, string, number, string?]> = [
    ['a tampered signature', hlsUri(`${header}.${payload}.${flipped}`), 401],
    ['no grant', '/hls/UIN-DEMO-1/cam-1/index.m3u8', 403],
    ['another camera in the path', hlsUri(grant, 'index.m3u8', 'cam-2'), 403],
    ['another node', hlsUri(grant), 403, 'node-london-1'],
    ['an FLV grant', hlsUri(flv), 403],
    ['..', `${hlsUri(grant, '')}../../cam-2/index.m3u8`, 403],
    ['.. into the other camera\'s grant path', `${hlsUri(other, '')}..%2F..%2Fcam-1%2Findex.m3u8`, 403],
    ['encoded ..', `${hlsUri(grant, '')}%2e%2e/%2e%2e/cam-2/index.m3u8`, 403],
    ['encoded slash', `${hlsUri(grant, '')}..%2fcam-2%2findex.m3u8`, 403],
    ['.', `${hlsUri(grant, '')}./index.m3u8`, 403],
    ['//', `${hlsUri(grant, '')}/index.m3u8`, 403],
    ['a backslash', `${hlsUri(grant, '')}..\\cam-2\\index.m3u8`, 403],
    ['the camera\'s directory alone', `/hls/${grant}/UIN-DEMO-1/cam-1`, 403]
  ]
  for (const [name, uri, status, node] of cases) {
    const answer = await verify(uri, node === undefined ? {} : { node })
    t.equal(answer.status, status, name)
  }
  t.equal((await verify(hlsUri(grant), { ip: null })).status, 400, 'no X-Real-IP: the node is misconfigured')
  t.equal(await system.store.collections.sessions.countDocuments({ owner }), 0, 'none of them started a session')
})

t.test('HLS viewers count against the tariff, on every replica', async (t) => {
  const owner = await accountWithLimit(system, 1)
  const replica = await gatewayWith({ hlsIdleS: IDLE_S, hlsSessionMaxS: 600 })
  const first = hlsGrant(owner)
  const second = hlsGrant(owner)
  t.equal((await verify(hlsUri(first), { ip: '198.51.100.1' })).status, 204)
  t.equal((await verify(hlsUri(first, 'seg-1.ts'), { ip: '198.51.100.1', base: replica })).status, 204, 'the other replica continues it')
  const refused = await verify(hlsUri(second), { ip: '198.51.100.2', base: replica })
  t.equal(refused.status, 403, 'a second viewer is refused at the node')
  t.match(refused.json().error.message, /GW_LIMIT_EXCEEDED/)
  t.equal((await verify(hlsUri(first), { ip: '198.51.100.3' })).status, 403, 'the same grant from another address is another viewer')
  // The first viewer watches on, its requests alternating between replicas, for 40 s.
  for (let s = 0; s < 20; s++) {
    clock += 2000
    t.equal((await verify(hlsUri(first, `seg-${s + 2}.ts`), { ip: '198.51.100.1', base: s % 2 === 0 ? replica : system.gatewayUrl })).status, 204)
    if (s === 10) t.equal((await verify(hlsUri(hlsGrant(owner)), { ip: '198.51.100.2' })).status, 403, 'still refused while the first watches')
  }
  // The first stops; within HLS_IDLE_S the slot is free.
  clock += IDLE_S * 1000
  t.equal((await verify(hlsUri(hlsGrant(owner)), { ip: '198.51.100.2', base: replica })).status, 204, 'admitted once the first is idle')
  t.equal((await verify(hlsUri(first, 'seg-99.ts'), { ip: '198.51.100.1' })).status, 403, 'the first, back, is a new viewer: the slot is taken')
})

t.test('a session ends HLS_SESSION_MAX_S after its start however busy', async (t) => {
  const owner = await accountWithLimit(system, null)
  const short = await gatewayWith({ hlsIdleS: IDLE_S, hlsSessionMaxS: 30 })
  const grant = hlsGrant(owner)
  t.equal((await verify(hlsUri(grant), { base: short })).status, 204)
  let refusedAt = -1
  for (let s = 1; s <= 20 && refusedAt < 0; s++) {
    clock += 2000
    if ((await verify(hlsUri(grant, `seg-${s}.ts`), { base: short })).status !== 204) refusedAt = s * 2
  }
  t.equal(refusedAt, 30, 'refused from 30 s on')
})

t.test('grants with an overlong lifetime, an iat ahead of the clock or an unlisted issuer are refused', async (t) => {
  const owner = await accountWithLimit(system, null)
  const { createStreamSigner } = await import('../../../src/signing/stream-signature.js')
  const { parseSigningKeys } = await import('../../../src/signing/keys.js')
  const { TEST_SIGNING_KEYS } = await import('../../helpers/system.js')
  const keys = parseSigningKeys(TEST_SIGNING_KEYS)
  const sign = (issuer: string, ttlSeconds: number, at: number): string =>
    createStreamSigner({ keys, issuer, ttlSeconds, now: () => at }).sign({ aud: NODE, sub: 'UIN-DEMO-1/cam-1', fmt: 'flv', own: owner, jti: 'j' }).token
  const flv = (grant: string): string => `/flv?server=UIN-DEMO-1&camera=cam-1&sig=${grant}`
  const tenYears = 10 * 365 * 86_400
  t.equal((await verify(flv(sign('gw-test', 300, clock)))).status, 204, 'SIG_MAX_TTL_S (300 s) is allowed')
  t.equal((await verify(flv(sign('gw-test', tenYears, clock)))).status, 401, 'ten years')
  t.equal((await verify(flv(sign('gw-test', 60, clock + 365 * 86_400_000)))).status, 401, 'a year ahead')
  t.equal((await verify(flv(sign('gw-test', 60, clock + 5000)))).status, 204, 'within SIG_CLOCK_SKEW_S')
  t.equal((await verify(flv(sign('gw-test', 60, clock + 7000)))).status, 401, 'beyond it')
  const listing = await gatewayWith({ signatureIssuers: ['gw-test', 'gw-other'] })
  t.equal((await verify(flv(sign('gw-other', 60, clock)), { base: listing })).status, 204, 'a listed issuer')
  const stranger = await verify(flv(sign('gw-stranger', 60, clock)), { base: listing })
  t.equal(stranger.status, 401, 'an issuer not in SIG_ISSUERS')
  t.match(stranger.json().error.message, /unknown gateway/)
  t.equal((await verify(flv(sign('gw-stranger', 60, clock)))).status, 204, 'any issuer when SIG_ISSUERS is empty')
  await t.rejects(gatewayWith({ signatureIssuers: ['gw-other'] }), /GATEWAY_ID/, 'a gateway must accept its own grants')
  await t.rejects(gatewayWith({ signatureTtlS: 600 }), /SIG_MAX_TTL_S/)
})
