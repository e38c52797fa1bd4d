// The optional cache of /verify answers that docs/nodes.md documents, through a real nginx: the
// README's node configuration with the page's two blocks added (read from the page, so that the
// page and the test cannot drift). One viewer fetching an HLS session's playlist and segments
// ten times a second reaches geogate only when the kept answer runs out; a second viewer address
// with the same URL is still asked (and refused); an ended session is refused within the delay
// the page states.

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { registerLoopbackNode } from '../helpers/loopback-node.js'
import { replacePlaceholder, startReadmeNode, type AccessLine } from '../helpers/readme-node.js'
import { get, startSystem } from '../helpers/system.js'
import { requireTools } from '../helpers/tools.js'

const NODE_ID = 'node-auth-cache-e2e'
const NODE_KEY = 'auth-cache-e2e-node-key-0123456789'
const VIEWER = '127.0.0.1'
const SECOND_VIEWER = '127.0.0.2'
const ADMIN = { authorization: 'Bearer demo-admin-token' }
const nodesPage = fileURLToPath(new URL('../../docs/nodes.md', import.meta.url))
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** The page's nginx block under `<!-- verify-cache:NAME -->`, as written. */
async function pageBlock (name: string): Promise<string> {
  const text = await readFile(nodesPage, 'utf8')
  const marker = `<!-- verify-cache:${name} -->\n\`\`\`nginx\n`
  const start = text.indexOf(marker)
  if (start < 0) throw new Error(`docs/nodes.md has no ${marker.trim()} block`)
  return text.slice(start + marker.length, text.indexOf('\n```', start + marker.length) + 1)
}

/** A GET of a path from a loopback address; its status. */
function fetchFrom (origin: string, rawPath: string, localAddress: string): Promise<number> {
  const { hostname, port } = new URL(origin)
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path: rawPath, localAddress, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${rawPath} timed out`)))
    req.on('error', reject)
    req.end()
  })
}

const nginx = requireTools(t, ['nginx'])?.nginx
if (nginx !== undefined) {
  const system = await startSystem(t)
  const hlsRoot = await mkdtemp(path.join(tmpdir(), 'geogate-auth-cache-'))
  t.teardown(() => rm(hlsRoot, { recursive: true, force: true }))
  const camera = path.join(hlsRoot, 'UIN-DEMO-1', 'cam-1')
  await mkdir(camera, { recursive: true })
  const segments = ['seg-0.ts', 'seg-1.ts', 'seg-2.ts']
  await writeFile(path.join(camera, 'index.m3u8'), `#EXTM3U\n#EXT-X-TARGETDURATION:1\n${segments.map((s) => `#EXTINF:1.0,\n${s}\n`).join('')}`)
  for (const segment of segments) await writeFile(path.join(camera, segment), Buffer.alloc(188, 0x47))

  const cacheHttp = await pageBlock('http')
  const cacheLocation = await pageBlock('location')
  const validS = Number(/proxy_cache_valid 204 (\d+)s;/.exec(cacheLocation)?.[1])
  if (!(validS > 0)) throw new Error('docs/nodes.md\'s cache keeps no 204 (proxy_cache_valid 204 Ns;)')
  // nginx keeps an answer to the end of the second its validity ends in, as the page says.
  const endDelayS = validS + 1

  const node = await startReadmeNode(t, nginx, {
    gateways: [new URL(system.gatewayUrl).host],
    nodeId: NODE_ID,
    nodeKey: NODE_KEY,
    hlsRoot,
    flvOrigin: '127.0.0.1:9',
    wsOrigin: '127.0.0.1:9'
  }, {
    http: (dir) => replacePlaceholder(cacheHttp, '/var/cache/nginx/geogate-verify', path.join(dir, 'verify-cache')),
    verifyLocation: cacheLocation
  })
  const accessLog = node.accessLog
  await registerLoopbackNode(t, system, { id: NODE_ID, port: node.port, key: NODE_KEY })

  t.test('repeated checks of one session come from the cache; another address and an end do not', async (t) => {
    const answer = await get(`${system.gatewayUrl}/hls?server=UIN-DEMO-1&camera=cam-1&access_token=demo-viewer-token&steering=off`)
    t.equal(answer.status, 302, `the gateway sends the viewer to the node${answer.status === 302 ? '' : `: ${answer.body}`}`)
    const playlist = new URL(String(answer.headers.location))
    t.equal(playlist.port, String(node.port), 'the node with the cache')
    const files = ['index.m3u8', ...segments]
    const fileUrl = (i: number): string => playlist.pathname.replace(/index\.m3u8$/, files[i % files.length] as string)
    const grantPath = playlist.pathname.replace(/index\.m3u8$/, '')
    const checks = async (from: number): Promise<AccessLine[]> =>
      (await accessLog()).slice(from).filter((line) => line.uri === '/_geogate_verify' && line.requestUri.startsWith(grantPath))

    // Four seconds of a player fetching ten times a second.
    const PLAY_MS = 4000
    let requests = 0
    const startedAt = Date.now()
    while (Date.now() - startedAt < PLAY_MS) {
      const status = await fetchFrom(node.url, fileUrl(requests++), VIEWER)
      if (status !== 200) t.fail(`request ${requests} answered ${status}:\n${await node.errorLog()}`)
      await sleep(100)
    }
    const played = await checks(0)
    const asked = played.filter((line) => line.upstream !== '-')
    t.equal(played.length, requests, 'every request was checked')
    t.ok(played.every((line) => line.status === 204), 'and allowed')
    t.ok(asked.length >= 1 && asked.length <= Math.ceil(PLAY_MS / 1000 / validS) + 1, `${asked.length} of ${requests} checks reached geogate, the others were kept answers (${played.filter((line) => line.cache === 'HIT').length} HIT)`)
    t.ok(asked.every((line) => line.cache === 'MISS' || line.cache === 'EXPIRED'), 'each when no answer was kept')
    const perMinute = (n: number): string => (n * 60_000 / PLAY_MS).toFixed(0)
    t.comment(`/verify calls per viewer per minute at 10 requests a second: ${perMinute(asked.length)} with the cache, ${perMinute(requests)} without`)

    // A second address with the viewer's URL while the viewer's answer is kept: asked, and refused.
    const logAt = (await accessLog()).length
    t.equal(await fetchFrom(node.url, fileUrl(0), VIEWER), 200, 'the viewer goes on')
    t.equal(await fetchFrom(node.url, fileUrl(0), SECOND_VIEWER), 403, 'the second viewer is refused')
    t.equal(await fetchFrom(node.url, fileUrl(1), SECOND_VIEWER), 403, 'each time')
    const second = (await checks(logAt)).filter((line) => line.client === SECOND_VIEWER)
    t.equal(second.length, 2, 'both checked')
    t.ok(second.every((line) => line.upstream !== '-' && line.cache === 'MISS'), 'both asked geogate: not the first viewer\'s kept answer, and a refusal is not kept')
    // The viewer's own address and grant, on a path nginx would serve from elsewhere than the
    // path it names: asked, never answered from the kept answer.
    const escapeAt = (await accessLog()).length
    const escaping = `${grantPath}../cam-1/index.m3u8`
    t.equal(await fetchFrom(node.url, escaping, VIEWER), 403, 'a dot segment is refused')
    t.match((await checks(escapeAt)).map((line) => line.cache), ['BYPASS'], 'by geogate, past the cache')

    // An operator ends the session: refused within the page's delay.
    const listed = await get(`${system.gatewayUrl}/api/v1/sessions?node=${NODE_ID}&format=hls`, { headers: ADMIN })
    const session = listed.json().items.find((s: { address: string }) => s.address === VIEWER)
    t.ok(session !== undefined, 'the viewer\'s session is listed')
    const endAt = (await accessLog()).length
    const ended = await fetch(`${system.gatewayUrl}/api/v1/sessions/${encodeURIComponent(session.id as string)}`, { method: 'DELETE', headers: ADMIN })
    const endedAt = Date.now()
    t.equal(ended.status, 200, 'ended')
    let status = 200
    let served = 0
    while (status === 200 && Date.now() - endedAt < (endDelayS + 5) * 1000) {
      status = await fetchFrom(node.url, fileUrl(served), VIEWER)
      if (status === 200) served++
      await sleep(50)
    }
    const refusedAfterS = (Date.now() - endedAt) / 1000
    t.equal(status, 403, 'the ended session is refused')
    t.ok(refusedAfterS <= endDelayS + 0.5, `${refusedAfterS.toFixed(2)} s after the end (the page: up to ${endDelayS} s); ${served} requests served from the kept answer meanwhile`)
    const afterEnd = await checks(endAt)
    t.ok(afterEnd.filter((line) => line.status === 204).every((line) => line.cache === 'HIT'), 'only kept answers allowed it after the end')
  })
}
