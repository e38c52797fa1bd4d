// HLS viewers count against the tariff at the node, with nginx sending its /verify calls
// round-robin to two gateway processes on one store (the README's upstream block with two
// servers). An account limited to one stream: while ffmpeg watches from 127.0.0.1, a second
// viewer from 127.0.0.2 is refused at the node; once ffmpeg stops, the second viewer is
// admitted within HLS_IDLE_S plus a few seconds.

import http from 'node:http'
import t from 'tap'
import { play, startHlsProducer } from '../../helpers/media.js'
import { startGeogate } from '../../helpers/processes.js'
import { replicaEnv, startSystem } from '../../helpers/system.js'
import { cityFixture } from '../../fixtures/mmdb/paths.js'
import { addReadmeNode, nodeUrl, playerTools, tempDir } from './node-fixture.js'

const HLS_IDLE_S = 3
const SECOND = '127.0.0.2'

function fetchFrom (origin: string, rawPath: string, from: string): Promise<number> {
  const { hostname, port } = new URL(origin)
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path: rawPath, localAddress: from, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${rawPath} timed out`)))
    req.on('error', reject)
    req.end()
  })
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

const tools = playerTools(t)
if (tools !== undefined) {
  const hlsRoot = await tempDir(t, 'hls-viewers')
  const config = { hlsIdleS: HLS_IDLE_S, signatureTtlS: 30 }
  const [system] = await Promise.all([
    startSystem(t, { config }),
    startHlsProducer(t, tools.ffmpeg, hlsRoot, 'UIN-DEMO-1', 'cam-1')
  ])
  const env = replicaEnv(system, { GATEWAY_ID: 'gw-test', MAXMIND_CITY_DB: cityFixture, HLS_IDLE_S: String(HLS_IDLE_S) })
  const replicas = await Promise.all([startGeogate(t, 'gateway', env), startGeogate(t, 'gateway', env)])
  const { node, ask } = await addReadmeNode(t, tools, system, { config, hlsRoot, replicas: replicas.map((r) => new URL(r.url).host) })

  t.test('one stream: a second HLS viewer is refused while the first watches, admitted soon after it stops', async (t) => {
    // The second viewer's grant, asked before the first plays (the gateway would answer 429 after).
    const secondGrant = nodeUrl(await ask('hls', { token: 'demo-limited-token', from: SECOND }))
    t.equal(secondGrant.origin, node.url)

    const first = play(t, tools.ffmpeg, `${system.gatewayUrl}/hls?server=UIN-DEMO-1&camera=cam-1&access_token=demo-limited-token`, 120)
    const firstSegments = async (): Promise<number> => (await node.accessLog())
      .filter((line) => line.client === '127.0.0.1' && line.uri.endsWith('.ts') && (line.status === 200 || line.status === 206)).length
    for (let waited = 0; (await firstSegments()) < 2; waited += 200) {
      if (waited > 20_000) throw new Error(`the first viewer is not playing:\n${await node.errorLog()}`)
      await sleep(200)
    }

    // For twice HLS_IDLE_S the first watches and the second keeps being refused.
    const refusals: number[] = []
    for (let i = 0; i < 2 * HLS_IDLE_S * 2; i++) {
      refusals.push(await fetchFrom(node.url, secondGrant.pathname, SECOND))
      await sleep(500)
    }
    t.same(refusals, refusals.map(() => 403), `the second viewer refused at the node ${refusals.length} times while the first watched`)
    const upstreams = new Set((await node.accessLog()).filter((line) => line.uri === '/_geogate_verify').map((line) => line.upstream))
    t.equal(upstreams.size, 2, `/verify went to both replicas: ${[...upstreams].join(', ')}`)
    const firstLog = (await node.accessLog()).filter((line) => line.client === '127.0.0.1' && line.uri.startsWith('/hls/'))
    t.same(firstLog.filter((line) => line.status >= 400), [], 'the first viewer was never refused')

    await first.stop()
    const stoppedAt = Date.now()
    let admittedAfter: number | undefined
    while (admittedAfter === undefined && Date.now() - stoppedAt < (HLS_IDLE_S + 10) * 1000) {
      await sleep(250)
      const answer = await ask('hls', { token: 'demo-limited-token', from: SECOND })
      // The gateway's own count (cached briefly) may still see the first viewer: 429 until it does not.
      if (answer.status !== 302) continue
      if (await fetchFrom(node.url, nodeUrl(answer).pathname, SECOND) === 200) admittedAfter = (Date.now() - stoppedAt) / 1000
    }
    t.ok(admittedAfter !== undefined && admittedAfter <= HLS_IDLE_S + 5, `admitted ${admittedAfter?.toFixed(1) ?? 'never'} s after the first stopped (HLS_IDLE_S ${HLS_IDLE_S})`)
    t.comment(`second viewer admitted ${admittedAfter?.toFixed(1) ?? 'never'} s after the first stopped; /verify upstreams ${[...upstreams].join(', ')}`)
  })
}
