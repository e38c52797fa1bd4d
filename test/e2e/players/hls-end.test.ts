// Ending reaches an HLS viewer through a real node: ffmpeg plays HLS from nginx configured as the
// README says, nginx sending its /verify calls round-robin to two gateway replicas on one store.
// An operator ends the session on one replica (DELETE /api/v1/sessions/:id); within 5 s every
// playlist and segment request of the viewer is refused (403 GW_SESSION_ENDED) whichever replica
// checks it, and the player stops.

import http from 'node:http'
import t from 'tap'
import { createGateway } from '../../../src/gateway.js'
import { cityFixture } from '../../fixtures/mmdb/paths.js'
import { play, startHlsProducer } from '../../helpers/media.js'
import { get, startSystem } from '../../helpers/system.js'
import { addReadmeNode, NODE_ID, playerTools, tempDir } from './node-fixture.js'

const ADMIN = { authorization: 'Bearer demo-admin-token' }
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function fetchStatus (origin: string, rawPath: string): Promise<number> {
  const { hostname, port } = new URL(origin)
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path: rawPath, localAddress: '127.0.0.1', agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${rawPath} timed out`)))
    req.on('error', reject)
    req.end()
  })
}

const tools = playerTools(t)
if (tools !== undefined) {
  const hlsRoot = await tempDir(t, 'hls-end')
  const config = { hlsIdleS: 10 }
  const [system] = await Promise.all([startSystem(t, { config }), startHlsProducer(t, tools.ffmpeg, hlsRoot, 'UIN-DEMO-1', 'cam-1')])
  const other = await createGateway({ config: { ...system.config, cityDatabase: cityFixture }, store: system.store, defaultMetrics: false })
  t.teardown(() => other.close())
  const otherUrl = await other.app.listen({ host: '127.0.0.1', port: 0 })
  const replicas = [new URL(system.gatewayUrl).host, new URL(otherUrl).host]
  const { node } = await addReadmeNode(t, tools, system, { config, hlsRoot, replicas })
  await other.refreshSnapshot()

  t.test('an ended HLS session is refused at every replica within 5 s, and the player stops', async (t) => {
    const player = play(t, tools.ffmpeg, `${system.gatewayUrl}/hls?server=UIN-DEMO-1&camera=cam-1&access_token=demo-viewer-token`, 120)
    const viewerLines = async (): Promise<Array<{ uri: string, status: number, requestUri: string }>> =>
      (await node.accessLog()).filter((line) => line.client === '127.0.0.1' && line.uri.startsWith('/hls/'))
    for (let waited = 0; (await viewerLines()).filter((line) => line.uri.endsWith('.ts') && line.status < 300).length < 3; waited += 200) {
      if (waited > 30_000) throw new Error(`the viewer is not playing:\n${await node.errorLog()}`)
      await sleep(200)
    }
    const verifiedBy = new Set((await node.accessLog()).filter((line) => line.uri === '/_geogate_verify' && line.status === 204).map((line) => line.upstream))
    t.equal(verifiedBy.size, 2, `both replicas verified the viewer's requests: ${[...verifiedBy].join(', ')}`)

    const listed = await get(`${system.gatewayUrl}/api/v1/sessions?node=${NODE_ID}&format=hls`, { headers: ADMIN })
    const [session] = listed.json().items
    t.match(session, { kind: 'hls', account: 'acct-demo', node: NODE_ID, address: '127.0.0.1' })

    // Ended on the other replica than the one the player asked for its URL.
    const logBefore = (await node.accessLog()).length
    const ended = await fetch(`${otherUrl}/api/v1/sessions/${encodeURIComponent(session.id as string)}`, { method: 'DELETE', headers: ADMIN })
    const endedAt = Date.now()
    t.equal(ended.status, 200)
    t.match(await ended.json(), { kind: 'hls', viewer: 'refused' })

    // The viewer's playlist, asked again from its address (a query marks the test's own requests
    // in the log; /verify reads the path): nginx sends each check to the next replica.
    const playlist = (await viewerLines()).filter((line) => line.uri.endsWith('.m3u8')).at(-1)?.uri ?? ''
    let probes = 0
    const probe = async (): Promise<void> => { await fetchStatus(node.url, `${playlist}?probe=${++probes}`) }
    const probed = async (): Promise<Array<{ status: number, upstream: string }>> =>
      (await node.accessLog()).slice(logBefore).filter((line) => line.uri === '/_geogate_verify' && line.requestUri.includes('?probe='))
    let refusedBy = new Set<string>()
    while (refusedBy.size < 2 && Date.now() - endedAt < 5000) {
      await probe()
      // Refused by a replica: its last two checks of the probes, whichever replica made them.
      refusedBy = new Set((await probed()).slice(-2).filter((line) => line.status === 403).map((line) => line.upstream))
      await sleep(50)
    }
    const refusedAfter = (Date.now() - endedAt) / 1000
    t.equal(refusedBy.size, 2, `refused by both replicas ${refusedAfter.toFixed(1)} s after the end: ${[...refusedBy].join(', ')}`)
    const seen = (await probed()).length
    for (let i = 0; i < 6; i++) await probe()
    const after = (await probed()).slice(seen)
    t.same(after.map((line) => line.status), after.map(() => 403), `and refused from then on by both: ${after.map((line) => `${line.status} by ${line.upstream}`).join(', ')}`)

    const stopped = await Promise.race([player.done.then(() => (Date.now() - endedAt) / 1000), sleep(30_000).then(() => undefined)])
    t.ok(stopped !== undefined, `the player stopped ${stopped === undefined ? 'not within 30 s' : `${stopped.toFixed(1)} s after the end`}`)
    const refusals = (await node.accessLog()).slice(logBefore).filter((line) => line.client === '127.0.0.1' && line.uri.startsWith('/hls/') && line.status >= 400)
    t.ok(refusals.every((line) => line.status === 403), 'every refusal nginx passed on is a 403')
  })
}
