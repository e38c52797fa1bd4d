// POST /hooks/srs over HTTP to a gateway on the embedded store: signatures checked for the
// node and camera, admission exact under concurrency, repeats counted once, stops releasing,
// leases renewed by heartbeats and lapsing without them.

import t from 'tap'
import { loadAccountLimits } from '../../../src/billing/check-limits.js'
import { startSystem } from '../../helpers/system.js'
import { accountWithLimit, hookUrl, NODE, NODE_KEY, postJson, testSigner, type Posted } from './hook-fixtures.js'

let clock = Date.parse('2030-01-01T00:00:00Z')
const now = (): number => clock
const system = await startSystem(t, { now })
const signer = testSigner(now)
const url = hookUrl(system, '/hooks/srs')

interface SrsPlay {
  clientId: string
  owner?: string
  sig?: string
  param?: string
  stream?: string
  ip?: string
}

function srsBody (action: 'on_play' | 'on_stop', play: SrsPlay): Record<string, unknown> {
  const sig = play.sig ?? signer.sign({ own: play.owner ?? 'acct-limited' })
  return {
    action,
    client_id: play.clientId,
    ip: play.ip ?? '203.0.113.7',
    vhost: '__defaultVhost__',
    app: 'live',
    stream: play.stream ?? 'UIN-DEMO-1_cam-1',
    param: play.param ?? `?server=UIN-DEMO-1&camera=cam-1&sig=${sig}`,
    server_id: 'vid-0xk989d',
    tcUrl: 'rtmp://127.0.0.1/live',
    page_url: ''
  }
}

const onPlay = (play: SrsPlay, target = url): Promise<Posted> => postJson(target, srsBody('on_play', play))
const onStop = (play: SrsPlay): Promise<Posted> => postJson(url, srsBody('on_stop', play))

function allowedCount (answers: Posted[]): number {
  return answers.filter((a) => a.status === 200 && a.json().code === 0).length
}

t.test('50 concurrent plays for an account limited to 1: one allowed, 49 denied; a stop frees the slot', async (t) => {
  const owner = await accountWithLimit(system, 1)
  const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => onPlay({ clientId: `burst-${i}`, owner })))
  t.ok(answers.every((a) => a.status === 200), 'SRS gets HTTP 200 either way')
  t.equal(allowedCount(answers), 1, 'exactly one allowed')
  const denied = answers.filter((a) => a.json().code !== 0)
  t.equal(denied.length, 49)
  for (const answer of denied) t.match(answer.json(), { code: 429, error: { code: 'GW_LIMIT_EXCEEDED', message: /limit of 1 concurrent stream/ } })

  const admitted = answers.findIndex((a) => a.json().code === 0)
  t.match((await onPlay({ clientId: 'late', owner })).json(), { code: 429 }, 'still full')
  t.same((await onStop({ clientId: `burst-${admitted}`, owner })).json(), { code: 0 })
  t.same((await onPlay({ clientId: 'late', owner })).json(), { code: 0 }, 'the freed slot admits the next play')
  t.equal((await loadAccountLimits(system.store.collections, owner, now())).activeSessions, 1)
})

t.test('a repeated on_play of one client id counts once', async (t) => {
  const owner = await accountWithLimit(system, 1)
  t.same((await onPlay({ clientId: 'repeat', owner })).json(), { code: 0 })
  t.same((await onPlay({ clientId: 'repeat', owner })).json(), { code: 0 })
  t.same((await onPlay({ clientId: 'repeat', owner })).json(), { code: 0 })
  t.equal((await loadAccountLimits(system.store.collections, owner, now())).activeSessions, 1)
  t.match((await onPlay({ clientId: 'another', owner })).json(), { code: 429 })
})

t.test('a lease lapses when the node stops heartbeating, and a heartbeat renews it', async (t) => {
  const owner = await accountWithLimit(system, 1)
  const start = clock
  t.same((await onPlay({ clientId: 'leased', owner })).json(), { code: 0 })

  clock = start + 30_000
  const beat = await postJson(`${system.gatewayUrl}/api/v1/nodes/${NODE}/heartbeat`, { sessions: 1, mbps: 2, cpu: 5 }, { authorization: `Bearer ${NODE_KEY}` })
  t.equal(beat.status, 200)
  clock = start + 60_000 // past the first lease (45 s), within the renewed one (to 75 s)
  t.match((await onPlay({ clientId: 'waiting', owner })).json(), { code: 429 }, 'the renewed lease still holds the slot')

  const wrongKey = await postJson(`${system.gatewayUrl}/api/v1/nodes/${NODE}/heartbeat`, { sessions: 1, mbps: 2, cpu: 5 }, { authorization: 'Bearer not-the-node-key-at-all' })
  t.equal(wrongKey.status, 401, 'a heartbeat with a wrong key renews nothing')

  clock = start + 76_000 // no heartbeat since 30 s: the lease ended at 75 s
  t.equal((await loadAccountLimits(system.store.collections, owner, now())).activeSessions, 0, 'the lapsed play no longer counts')
  t.same((await onPlay({ clientId: 'waiting', owner })).json(), { code: 0 }, 'its slot is free again')
})

t.test('signature problems deny the play with 401 or 403', async (t) => {
  const owner = await accountWithLimit(system, null)
  const good = signer.sign({ own: owner })
  const tampered = `${good.slice(0, -6)}${good.slice(-6, -5) === 'A' ? 'B' : 'A'}${good.slice(-5)}`
  const cases: Array<[string, SrsPlay, number, string]> = [
    ['no signature', { clientId: 's1', param: '?server=UIN-DEMO-1&camera=cam-1' }, 401, 'GW_TOKEN_MISSING'],
    ['a tampered signature', { clientId: 's2', sig: tampered }, 401, 'GW_TOKEN_INVALID'],
    ['two signatures', { clientId: 's3', param: `?server=UIN-DEMO-1&camera=cam-1&sig=${good}&sig=${good}` }, 401, 'GW_TOKEN_INVALID'],
    ['another node\'s signature', { clientId: 's4', sig: signer.sign({ own: owner, aud: 'node-london-1' }) }, 403, 'GW_FORBIDDEN'],
    ['another camera\'s signature', { clientId: 's5', param: `?server=UIN-DEMO-1&camera=cam-2&sig=${good}` }, 403, 'GW_FORBIDDEN'],
    ['no camera named', { clientId: 's6', param: `?server=UIN-DEMO-1&sig=${good}` }, 403, 'GW_FORBIDDEN'],
    ['another client address', { clientId: 's7', sig: signer.sign({ own: owner, cip: '198.51.100.1' }) }, 403, 'GW_FORBIDDEN']
  ]
  for (const [name, play, code, error] of cases) {
    const answer = await onPlay(play)
    t.equal(answer.status, 200, `${name}: HTTP 200`)
    t.match(answer.json(), { code, error: { code: error } }, name)
  }
  t.same((await onPlay({ clientId: 's8', sig: signer.sign({ own: owner, cip: '203.0.113.7' }) })).json(), { code: 0 }, 'the client address bound matches')
  const expiring = signer.sign({ own: owner })
  clock += 61_000
  t.match((await onPlay({ clientId: 's9', sig: expiring })).json(), { code: 401, error: { code: 'GW_TOKEN_INVALID', message: /expired/ } })
  t.equal((await system.store.collections.sessions.countDocuments({ owner, client_id: { $ne: 's8' } })), 0, 'no denied play left a session')
})

t.test('billing denies suspended accounts and tariffs without the format', async (t) => {
  const suspended = await accountWithLimit(system, null, 'suspended')
  t.match((await onPlay({ clientId: 'b1', owner: suspended })).json(), { code: 402, error: { code: 'GW_BILLING_BLOCKED' } })
  const flvOnly = await accountWithLimit(system, null)
  await system.store.collections.tariffs.updateOne({ _id: `tariff-${flvOnly}` }, { $set: { formats: ['flv'] } })
  const hlsPlayPath = `${hookUrl(system, '/hooks/srs')}&formats=flv,hls`
  t.match((await onPlay({ clientId: 'b2', sig: signer.sign({ own: flvOnly, fmt: 'hls' }) }, hlsPlayPath)).json(), { code: 402, error: { code: 'GW_BILLING_BLOCKED', message: /hls/ } })
})

t.test('the node must prove who it is: key in the URL or a bearer header', async (t) => {
  const owner = await accountWithLimit(system, null)
  const unkeyed = hookUrl(system, '/hooks/srs', NODE, null)
  t.equal((await postJson(unkeyed, srsBody('on_play', { clientId: 'n1', owner }))).status, 401, 'no key')
  t.same((await postJson(unkeyed, srsBody('on_play', { clientId: 'n1', owner }), { authorization: `Bearer ${NODE_KEY}` })).json(), { code: 0 }, 'a bearer key')
  const wrong = await onPlay({ clientId: 'n2', owner }, hookUrl(system, '/hooks/srs', NODE, 'x'.repeat(32)))
  t.equal(wrong.status, 401)
  t.equal(wrong.json().error.code, 'GW_TOKEN_INVALID')
  const unknown = await onPlay({ clientId: 'n3', owner }, hookUrl(system, '/hooks/srs', 'node-nowhere'))
  t.equal(unknown.status, 401, 'an unknown node answers like a wrong key')
  const otherNode = await onPlay({ clientId: 'n4', owner }, hookUrl(system, '/hooks/srs', 'node-london-1', NODE_KEY))
  t.equal(otherNode.status, 401, 'one node\'s key does not speak for another')
  t.equal((await onStop({ clientId: 'n1' })).status, 200)
})

t.test('every field read is checked before anything runs', async (t) => {
  const sig = signer.sign({ own: 'acct-limited' })
  const good = srsBody('on_play', { clientId: 'v1', sig })
  const bad: Array<[string, Record<string, unknown>]> = [
    ['an unknown action', { ...good, action: 'on_publish' }],
    ['an object as client id', { ...good, client_id: { $gt: '' } }],
    ['a client id too long', { ...good, client_id: 'c'.repeat(129) }],
    ['no ip', { ...good, ip: undefined }],
    ['an ip that is not an address', { ...good, ip: 'localhost' }],
    ['a param too long', { ...good, param: `?${'a'.repeat(8192)}` }],
    ['a stream name too long', { ...good, stream: 's'.repeat(256) }]
  ]
  for (const [name, body] of bad) {
    const answer = await postJson(url, body)
    t.equal(answer.status, 400, name)
    t.equal(answer.json().error.code, 'GW_BAD_REQUEST', name)
  }
  t.equal((await postJson(`${url}&extra=1`, good)).status, 400, 'an unknown hook URL parameter')
  t.equal((await postJson(hookUrl(system, '/hooks/srs', 'bad node id'), good)).status, 400, 'a malformed node id')
  t.same((await postJson(url, { ...good, client_id: 42 })).json(), { code: 0 }, 'SRS 3 sends numeric client ids')
})

t.test('the collision of sessions keyed px:1 + 5 and px + 1:5 cannot happen over the hook', async (t) => {
  const owner = await accountWithLimit(system, 1)
  for (const id of ['px', 'px:1']) {
    await system.store.collections.nodes.insertOne({ ...(await system.store.collections.nodes.findOne({ _id: NODE }))!, _id: id })
  }
  const at = (node: string): string => hookUrl(system, '/hooks/srs', node)
  const sigFor = (node: string): string => signer.sign({ own: owner, aud: node })
  t.same((await onPlay({ clientId: '5', sig: sigFor('px:1') }, at('px:1'))).json(), { code: 0 })
  t.same((await postJson(at('px'), srsBody('on_stop', { clientId: '1:5', sig: sigFor('px') }))).json(), { code: 0 })
  t.match((await onPlay({ clientId: 'second', sig: sigFor('px') }, at('px'))).json(), { code: 429 }, 'the first play still holds the stream')
})

t.test('a grant is admitted only by a play path that serves its fmt', async (t) => {
  const owner = await accountWithLimit(system, null)
  const hlsOnly = await accountWithLimit(system, null)
  await system.store.collections.tariffs.updateOne({ _id: `tariff-${hlsOnly}` }, { $set: { formats: ['hls'] } })
  const refused = await onPlay({ clientId: 'f1', sig: signer.sign({ own: hlsOnly, fmt: 'hls' }) })
  t.match(refused.json(), { code: 403, error: { code: 'GW_FORBIDDEN', message: /hls, which this play path does not serve/ } }, 'an HLS grant at an FLV play path')
  t.match((await onPlay({ clientId: 'f2', sig: signer.sign({ own: owner, fmt: 'ws-fmp4' }) })).json(), { code: 403 }, 'a ws-fmp4 grant')
  const wsPath = `${hookUrl(system, '/hooks/srs')}&formats=flv,ws-fmp4`
  t.same((await onPlay({ clientId: 'f3', sig: signer.sign({ own: owner, fmt: 'ws-fmp4' }) }, wsPath)).json(), { code: 0 }, 'where the hook URL declares it')
  t.equal((await onPlay({ clientId: 'f4', owner }, `${hookUrl(system, '/hooks/srs')}&formats=mp4`)).status, 400, 'an unknown format in the hook URL')
})

t.test('hooks refuse grants with an overlong lifetime or an iat ahead of the clock', async (t) => {
  const owner = await accountWithLimit(system, null)
  const { createStreamSigner } = await import('../../../src/signing/stream-signature.js')
  const { parseSigningKeys } = await import('../../../src/signing/keys.js')
  const { TEST_SIGNING_KEYS } = await import('../../helpers/system.js')
  const sign = (ttlSeconds: number, at: number): string => createStreamSigner({ keys: parseSigningKeys(TEST_SIGNING_KEYS), issuer: 'gw-test', ttlSeconds, now: () => at })
    .sign({ aud: NODE, sub: 'UIN-DEMO-1/cam-1', fmt: 'flv', own: owner, jti: 'j' }).token
  t.match((await onPlay({ clientId: 'l1', sig: sign(10 * 365 * 86_400, clock) })).json(), { code: 401, error: { message: /lifetime/ } })
  t.match((await onPlay({ clientId: 'l2', sig: sign(60, clock + 365 * 86_400_000) })).json(), { code: 401, error: { message: /future/ } })
  t.same((await onPlay({ clientId: 'l3', sig: sign(60, clock) })).json(), { code: 0 })
})
