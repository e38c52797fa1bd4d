// WebSocket fMP4 and HTTP-FLV through a real node: nginx configured exactly as the README says,
// in front of small local origins streaming live encodes by ffmpeg. undici's WebSocket client
// asks the gateway's JSON answer and connects through nginx, whose auth_request checks the
// upgrade; ffmpeg follows the gateway's 302 for FLV and decodes at least 10 s.

import http from 'node:http'
import t from 'tap'
import { WebSocket } from 'undici'
import { parseSigningKeys } from '../../../src/signing/keys.js'
import { createStreamSigner } from '../../../src/signing/stream-signature.js'
import { play, startFlvOrigin, startWsOrigin } from '../../helpers/media.js'
import { TEST_SIGNING_KEYS } from '../../helpers/system.js'
import { NODE_ID, nodeUrl, playerTools, startPlayerNode, tempDir } from './node-fixture.js'

const FLV_S = 10.5

interface Received {
  opened: boolean
  bytes: Buffer
  closeCode: number | undefined
}

/** Connects with undici's WebSocket and collects binary messages until `enough` bytes or close. */
function receive (url: string, enough: number): Promise<Received> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url)
    socket.binaryType = 'arraybuffer'
    const chunks: Buffer[] = []
    let size = 0
    let opened = false
    const timer = setTimeout(() => socket.close(), 15_000)
    socket.addEventListener('open', () => { opened = true })
    socket.addEventListener('message', (event) => {
      const chunk = Buffer.from(event.data as ArrayBuffer)
      chunks.push(chunk)
      size += chunk.length
      if (size >= enough && socket.readyState === WebSocket.OPEN) socket.close(1000)
    })
    socket.addEventListener('close', (event) => {
      clearTimeout(timer)
      resolve({ opened, bytes: Buffer.concat(chunks), closeCode: event.code })
    })
  })
}

/** The HTTP status nginx answers a WebSocket upgrade with (101 when it lets it through). */
function upgradeStatus (url: string): Promise<number> {
  const target = new URL(url.replace(/^ws/, 'http'))
  return new Promise((resolve, reject) => {
    const req = http.request(target, {
      agent: false,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' }
    })
    req.on('response', (res) => { res.resume(); resolve(res.statusCode ?? 0) })
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve(res.statusCode ?? 0) })
    req.on('error', reject)
    req.setTimeout(10_000, () => req.destroy(new Error('upgrade timed out')))
    req.end()
  })
}

const tools = playerTools(t)
if (tools !== undefined) {
  const [flv, ws, hlsRoot] = await Promise.all([startFlvOrigin(t, tools.ffmpeg), startWsOrigin(t, tools.ffmpeg), tempDir(t, 'hls-unused')])
  const { system, node, ask } = await startPlayerNode(t, tools, { config: {}, hlsRoot, flvOrigin: flv.address, wsOrigin: ws.address })

  t.test(`FLV: ffmpeg follows the 302 to nginx proxying a live HTTP-FLV source and decodes ${FLV_S} s`, async (t) => {
    const player = play(t, tools.ffmpeg, `${system.gatewayUrl}/flv?server=UIN-DEMO-1&camera=cam-1&access_token=demo-viewer-token`, FLV_S)
    const played = await player.done
    t.equal(played.code, 0, `ffmpeg exited cleanly${played.code === 0 ? '' : `: ${played.errors}\n${await node.errorLog()}`}`)
    t.ok(played.seconds >= 10, `decoded ${played.seconds.toFixed(1)} s of video`)
    t.ok(played.frames >= 100, `${played.frames} frames`)
    t.same(flv.paths, ['/live/UIN-DEMO-1/cam-1.flv'], 'the node proxied the camera the grant is for')
    const log = await node.accessLog()
    t.match(log.filter((line) => line.uri === '/flv'), [{ status: 200 }])
    t.match(log.filter((line) => line.uri === '/_geogate_verify'), [{ status: 204 }])
    t.comment(`FLV: ${played.seconds.toFixed(1)} s decoded, ${played.frames} frames`)
  })

  t.test('WebSocket fMP4: the JSON answer\'s URL connects through nginx and receives live fMP4', async (t) => {
    const answer = await ask('ws-fmp4', { json: true })
    const url = nodeUrl(answer)
    t.equal(url.protocol, 'ws:')
    t.equal(answer.json().node.id, NODE_ID)
    const received = await receive(url.href, 16 * 1024)
    t.ok(received.opened, 'the upgrade went through')
    t.ok(received.bytes.length >= 16 * 1024, `${received.bytes.length} bytes received`)
    t.equal(received.bytes.subarray(4, 8).toString('latin1'), 'ftyp', 'an MP4 stream')
    t.ok(received.bytes.includes('moof') && received.bytes.includes('mdat'), 'with media fragments')
    t.same(ws.paths, ['/live/UIN-DEMO-1/cam-1.mp4'])
    t.comment(`WS fMP4: ${received.bytes.length} bytes received`)
  })

  t.test('WebSocket fMP4: a tampered or expired grant is refused at the upgrade', async (t) => {
    const url = nodeUrl(await ask('ws-fmp4', { json: true }))
    const sig = url.searchParams.get('sig') ?? ''
    const tampered = new URL(url.href)
    tampered.searchParams.set('sig', `${sig.slice(0, -3)}${sig.at(-3) === 'A' ? 'B' : 'A'}${sig.slice(-2)}`)
    const expired = new URL(url.href)
    const past = createStreamSigner({ keys: parseSigningKeys(TEST_SIGNING_KEYS), issuer: 'gw-test', now: () => Date.now() - 70_000 })
    expired.searchParams.set('sig', past.sign({ aud: NODE_ID, sub: 'UIN-DEMO-1/cam-1', fmt: 'ws-fmp4', own: 'acct-demo', jti: 'expired' }).token)
    const before = ws.paths.length
    for (const [name, target] of [['tampered', tampered], ['expired', expired]] as const) {
      t.equal(await upgradeStatus(target.href), 401, `${name}: nginx answers the upgrade 401`)
      const received = await receive(target.href, 1)
      t.notOk(received.opened, `${name}: undici's WebSocket never opens`)
      t.equal(received.bytes.length, 0)
    }
    t.equal(await upgradeStatus(url.href), 101, 'the untouched grant upgrades')
    t.equal(ws.paths.length, before + 1, 'only that one reached the origin')
  })
}
