// POST /hooks/nginx-rtmp over HTTP to a gateway on the embedded store: the form nginx-rtmp
// sends for on_play and on_play_done, with the client's query arguments as fields. 2xx lets
// the play through; 403 stops it.

import t from 'tap'
import { loadAccountLimits } from '../../../src/billing/check-limits.js'
import { startSystem } from '../../helpers/system.js'
import { accountWithLimit, hookUrl, NODE_KEY, postForm, testSigner, type Posted } from './hook-fixtures.js'

const clock = Date.parse('2030-01-01T00:00:00Z')
const now = (): number => clock
const system = await startSystem(t, { now, config: { hookStreamName: '{server}_{camera}' } })
const signer = testSigner(now)
const url = hookUrl(system, '/hooks/nginx-rtmp')

interface RtmpPlay {
  clientId: string
  owner?: string
  sig?: string
  name?: string
  extra?: string
}

// nginx-rtmp's own fields first, then the client's arguments, as ngx_rtmp_notify_module sends them.
function form (call: 'play' | 'play_done', play: RtmpPlay): string {
  const own = new URLSearchParams([
    ['app', 'live'], ['flashver', 'LNX 9,0,124,2'], ['swfurl', ''], ['tcurl', 'rtmp://127.0.0.1:1935/live'], ['pageurl', ''],
    ['addr', '203.0.113.9'], ['clientid', play.clientId], ['call', call], ['name', play.name ?? 'UIN-DEMO-1_cam-1'],
    ['type', 'live'], ['start', '-2'], ['duration', '0'], ['reset', '0']
  ])
  const sig = play.sig ?? signer.sign({ own: play.owner ?? 'acct-limited' })
  return `${own.toString()}&server=UIN-DEMO-1&camera=cam-1&sig=${sig}${play.extra ?? ''}`
}

const onPlay = (play: RtmpPlay): Promise<Posted> => postForm(url, form('play', play))
const onPlayDone = (play: RtmpPlay): Promise<Posted> => postForm(url, form('play_done', play))

t.test('50 concurrent plays for an account limited to 1: one 2xx, 49 403s; play_done frees the slot', async (t) => {
  const owner = await accountWithLimit(system, 1)
  const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => onPlay({ clientId: String(1000 + i), owner })))
  const allowed = answers.filter((a) => a.status >= 200 && a.status < 300)
  t.equal(allowed.length, 1, 'exactly one allowed')
  const denied = answers.filter((a) => a.status === 403)
  t.equal(denied.length, 49, 'the rest get 403')
  for (const answer of denied) t.equal(answer.json().error.code, 'GW_LIMIT_EXCEEDED')

  const admitted = 1000 + answers.findIndex((a) => a.status === 200)
  t.equal((await onPlay({ clientId: '2000', owner })).status, 403)
  t.equal((await onPlayDone({ clientId: String(admitted), owner })).status, 200)
  t.equal((await onPlay({ clientId: '2000', owner })).status, 200, 'the freed slot admits the next play')
})

t.test('a repeated play of one client id counts once', async (t) => {
  const owner = await accountWithLimit(system, 1)
  for (let i = 0; i < 3; i++) t.equal((await onPlay({ clientId: '77', owner })).status, 200)
  t.equal((await loadAccountLimits(system.store.collections, owner, now())).activeSessions, 1)
  t.equal((await onPlay({ clientId: '78', owner })).status, 403)
})

t.test('signature and stream-name refusals are 403 with the reason', async (t) => {
  const owner = await accountWithLimit(system, null)
  const cases: Array<[string, RtmpPlay, string]> = [
    ['a signature for another node', { clientId: '301', sig: signer.sign({ own: owner, aud: 'node-moscow-2' }) }, 'GW_FORBIDDEN'],
    ['a signature for another camera', { clientId: '302', sig: signer.sign({ own: owner, sub: 'UIN-DEMO-1/cam-2' }) }, 'GW_FORBIDDEN'],
    ['a stream other than the signed camera', { clientId: '303', owner, name: 'UIN-DEMO-1_cam-2' }, 'GW_FORBIDDEN'],
    ['garbage for a signature', { clientId: '304', sig: 'not.a.jwt' }, 'GW_TOKEN_INVALID']
  ]
  for (const [name, play, code] of cases) {
    const answer = await onPlay(play)
    t.equal(answer.status, 403, name)
    t.equal(answer.json().error.code, code, name)
  }
  t.equal((await onPlay({ clientId: '305', owner })).status, 200, 'the signed camera under its stream name plays')
})

t.test('a client argument that repeats one of the node\'s fields is refused, not believed', async (t) => {
  const owner = await accountWithLimit(system, null)
  for (const extra of ['&addr=198.51.100.1', '&call=play_done', '&sig=second', '&camera=cam-2', '&clientid=1']) {
    t.equal((await onPlay({ clientId: '401', owner, extra })).status, 400, extra)
  }
  t.equal((await onPlay({ clientId: '401', owner, extra: '&foo=bar' })).status, 200, 'other arguments pass through')
})

t.test('the node key may come as a bearer header; a wrong one is 401', async (t) => {
  const owner = await accountWithLimit(system, null)
  const unkeyed = hookUrl(system, '/hooks/nginx-rtmp', 'node-moscow-1', null)
  t.equal((await postForm(unkeyed, form('play', { clientId: '501', owner }))).status, 401)
  t.equal((await postForm(unkeyed, form('play', { clientId: '501', owner }), { authorization: `Bearer ${NODE_KEY}` })).status, 200)
  t.equal((await postForm(hookUrl(system, '/hooks/nginx-rtmp', 'node-moscow-1', 'k'.repeat(20)), form('play', { clientId: '502', owner }))).status, 401)
})

t.test('an HLS grant is not a play at nginx-rtmp unless the hook URL declares hls', async (t) => {
  const owner = await accountWithLimit(system, null)
  const hls = signer.sign({ own: owner, fmt: 'hls' })
  const refused = await onPlay({ clientId: '7001', sig: hls })
  t.equal(refused.status, 403)
  t.match(refused.json().error, { code: 'GW_FORBIDDEN', message: /hls/ })
  t.equal((await onPlay({ clientId: '7002', owner })).status, 200, 'an FLV grant plays')
})
