// HLS through a real node in a real player: ffmpeg writes a live HLS stream (1 s segments),
// nginx serves it configured exactly as the README says, and ffmpeg as the player follows the
// gateway's 302 and decodes for 5 × SIG_TTL_S. Every playlist and segment request must be
// verified by the gateway and none refused. Meanwhile, from another address, grants that must
// start nothing: stale, tampered, another camera, another node, another format, path escapes.

import { mkdir, writeFile } from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import t, { type Test } from 'tap'
import { parseSigningKeys } from '../../../src/signing/keys.js'
import { createStreamSigner } from '../../../src/signing/stream-signature.js'
import { play, startHlsProducer } from '../../helpers/media.js'
import { TEST_SIGNING_KEYS } from '../../helpers/system.js'
import { NODE_ID, nodeUrl, playerTools, startPlayerNode, tempDir } from './node-fixture.js'

const SIG_TTL_S = 5
const PLAY_S = 5 * SIG_TTL_S + 1
const OTHER = '127.0.0.3'

interface Fetched {
  status: number
  body: string
}

/** A GET of a raw path (sent as written: no normalization), from another loopback address. */
function fetchRaw (origin: string, rawPath: string): Promise<Fetched> {
  const { hostname, port } = new URL(origin)
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path: rawPath, localAddress: OTHER, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${rawPath} timed out`)))
    req.on('error', reject)
    req.end()
  })
}

const tools = playerTools(t)
if (tools !== undefined) {
  const hlsRoot = await tempDir(t, 'hls')
  // Another camera's playlist on disk, which an escaping path would reach.
  await mkdir(path.join(hlsRoot, 'UIN-DEMO-1', 'cam-2'), { recursive: true })
  await writeFile(path.join(hlsRoot, 'UIN-DEMO-1', 'cam-2', 'index.m3u8'), '#EXTM3U\n# cam-2\n')
  const [{ system, node, ask }] = await Promise.all([
    startPlayerNode(t, tools, { config: { signatureTtlS: SIG_TTL_S, hlsIdleS: 10 }, hlsRoot }),
    startHlsProducer(t, tools.ffmpeg, hlsRoot, 'UIN-DEMO-1', 'cam-1')
  ])

  t.test(`ffmpeg plays HLS for ${PLAY_S} s (5 × SIG_TTL_S), every request verified, none refused`, async (t) => {
    const player = play(t, tools.ffmpeg, `${system.gatewayUrl}/hls?server=UIN-DEMO-1&camera=cam-1&access_token=demo-viewer-token`, PLAY_S)
    const [played] = await Promise.all([player.done, refusals(t)])
    t.equal(played.code, 0, `ffmpeg exited cleanly${played.code === 0 ? '' : `: ${played.errors}\n${await node.errorLog()}`}`)
    t.ok(played.seconds >= PLAY_S - 0.5, `decoded ${played.seconds.toFixed(1)} s of video`)
    t.ok(played.frames >= (PLAY_S - 1) * 10, `${played.frames} frames`)

    const log = (await node.accessLog()).filter((line) => line.client === '127.0.0.1')
    const requests = log.filter((line) => line.uri.startsWith('/hls/'))
    const verified = log.filter((line) => line.uri === '/_geogate_verify')
    const playlists = requests.filter((line) => line.uri.endsWith('.m3u8'))
    const segments = requests.filter((line) => line.uri.endsWith('.ts'))
    t.ok(playlists.length >= 5, `${playlists.length} playlist requests`)
    t.ok(segments.length >= PLAY_S - 2, `${segments.length} segment requests`)
    t.same(requests.filter((line) => line.status !== 200 && line.status !== 206), [], 'no request refused (ffmpeg asks ranges: 206)')
    t.equal(verified.length, requests.length, `${verified.length} /verify calls for ${requests.length} requests`)
    t.same(verified.filter((line) => line.status !== 204), [], 'each verified 204')
    t.same([...new Set(verified.map((line) => line.requestUri))].sort(), [...new Set(requests.map((line) => line.requestUri))].sort(), 'the very requests')
    const grants = new Set(requests.map((line) => line.requestUri.split('/')[2]))
    t.equal(grants.size, 1, 'one grant, long past its exp')
    t.comment(`HLS: ${played.seconds.toFixed(1)} s decoded, ${playlists.length} playlists + ${segments.length} segments, ${verified.length} verified`)
  })

  /** Grants and paths that must start nothing, tried while the player plays. */
  async function refusals (t: Test): Promise<void> {
    const fresh = nodeUrl(await ask('hls', { from: OTHER }))
    t.equal(fresh.origin, node.url, 'the gateway sends HLS to the nginx node')
    const [, , grant = '', server, camera, file] = fresh.pathname.split('/')
    t.same([server, camera, file], ['UIN-DEMO-1', 'cam-1', 'index.m3u8'])
    const at = (g: string, rest = 'UIN-DEMO-1/cam-1/index.m3u8'): string => `/hls/${g}/${rest}`

    const [h = '', p = '', s = ''] = grant.split('.')
    const tampered = `${h}.${p}.${s.slice(0, 5)}${s[5] === 'A' ? 'B' : 'A'}${s.slice(6)}`
    const otherNode = createStreamSigner({ keys: parseSigningKeys(TEST_SIGNING_KEYS), issuer: 'gw-test', ttlSeconds: SIG_TTL_S })
      .sign({ aud: 'node-london-1', sub: 'UIN-DEMO-1/cam-1', fmt: 'hls', own: 'acct-demo', jti: 'other-node' }).token
    const flvGrant = nodeUrl(await ask('flv', { from: OTHER })).searchParams.get('sig') ?? ''
    const cam2Grant = nodeUrl(await ask('hls', { from: OTHER, camera: 'cam-2' })).pathname.split('/')[2] ?? ''
    t.not(otherNode, '', `node ${NODE_ID} is not london`)

    const cases: Array<[string, string, number]> = [
      ['tampered', at(tampered), 401],
      ['for another camera', at(grant, 'UIN-DEMO-1/cam-2/index.m3u8'), 403],
      ['for another node', at(otherNode), 403],
      ['for another format', at(flvGrant), 403],
      ['.. into another camera', at(grant, 'UIN-DEMO-1/cam-1/../cam-2/index.m3u8'), 403],
      ['.. out of another camera\'s grant', at(cam2Grant, 'UIN-DEMO-1/cam-2/../cam-1/index.m3u8'), 403],
      ['encoded ..', at(grant, 'UIN-DEMO-1/cam-1/%2e%2e/cam-2/index.m3u8'), 403],
      ['encoded slash', at(grant, 'UIN-DEMO-1/cam-1/..%2Fcam-2%2Findex.m3u8'), 403],
      ['//', at(grant, 'UIN-DEMO-1/cam-1//index.m3u8'), 403]
    ]
    for (const [name, rawPath, status] of cases) {
      const answer = await fetchRaw(node.url, rawPath)
      t.equal(answer.status, status, name)
      t.notMatch(answer.body, /#EXTM3U/, `${name}: no playlist`)
    }
    const good = await fetchRaw(node.url, at(grant))
    t.equal(good.status, 200, 'the untouched grant plays from that address')
    t.match(good.body, /#EXTM3U/)

    const stale = nodeUrl(await ask('hls', { from: OTHER, camera: 'cam-1', token: 'demo-limited-token' }))
    await new Promise((resolve) => setTimeout(resolve, (SIG_TTL_S + 1.5) * 1000))
    t.equal((await fetchRaw(node.url, stale.pathname)).status, 401, 'a grant first used after its exp starts nothing')
  }
}
