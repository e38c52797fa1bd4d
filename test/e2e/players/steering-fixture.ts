// What the failover tests share: several real nginx nodes configured as the README says, in
// one loopback geo group, each with a heartbeat of its own every HEARTBEAT_MS that a test stops
// when it kills the node (a dead node beats no more); and a page server on an origin of its own
// (neither the gateway's nor a node's) that serves hls.js from node_modules and a page playing
// one HLS URL with it, recording what a viewer would see.

import { registerLoopbackNode } from '../../helpers/loopback-node.js'
import { readFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import type { Test } from 'tap'
import { startReadmeNode, type ReadmeNode } from '../../helpers/readme-node.js'
import type { TestSystem } from '../../helpers/system.js'
import type { Tools } from './node-fixture.js'

export const HEARTBEAT_MS = 2000
export const GROUP = 'loopback'

export interface SteeredNode {
  id: string
  key: string
  node: ReadmeNode
  /** Its heartbeats stop, as when the node dies. */
  stopBeating: () => void
  /** SIGKILL for its nginx, and no more heartbeats. */
  kill: () => Promise<void>
  /** A new nginx for the same node (a new port), beating again. */
  restart: () => Promise<void>
}

export interface SteeredNodeOptions {
  hlsRoot: string
  flvOrigin?: string
  wsOrigin?: string
}

/** Nodes ids, each a README nginx in the loopback group, alive until killed. */
export async function startSteeredNodes (t: Test, tools: Tools, system: TestSystem, ids: string[], options: SteeredNodeOptions): Promise<SteeredNode[]> {
  const { nodes } = system.store.collections
  const gateway = new URL(system.gatewayUrl).host
  const started = await Promise.all(ids.map(async (id): Promise<SteeredNode> => {
    const key = `${id}-key-0123456789abcdef`
    const run = async (): Promise<ReadmeNode> => await startReadmeNode(t, tools.nginx, {
      gateways: [gateway],
      nodeId: id,
      nodeKey: key,
      hlsRoot: options.hlsRoot,
      flvOrigin: options.flvOrigin ?? '127.0.0.1:9',
      wsOrigin: options.wsOrigin ?? '127.0.0.1:9'
    })
    let node = await run()
    const { startBeating, stopBeating } = await registerLoopbackNode(t, system, { id, port: node.port, key, beatEveryMs: HEARTBEAT_MS })
    const steered: SteeredNode = {
      id,
      key,
      get node () { return node },
      stopBeating,
      async kill () {
        stopBeating()
        await node.kill()
      },
      async restart () {
        node = await run()
        await nodes.updateOne({ _id: id }, { $set: { port: node.port } })
        startBeating()
      }
    }
    return steered
  }))
  await system.gateway.refreshSnapshot()
  return started
}

export interface PageServer {
  /** The page's origin: its own port, neither the gateway's nor a node's. */
  origin: string
  /**
   * The page that plays each src with an hls.js of its own, side by side in one tab (a
   * background tab's video is paused by the browser).
   */
  pageUrl: (srcs: string[]) => string
}

const require = createRequire(import.meta.url)

/** Serves hls.js from node_modules and the player page, on an origin of its own. */
export async function startPageServer (t: Test): Promise<PageServer> {
  const hlsJs = await readFile(require.resolve('hls.js/dist/hls.min.js'))
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://page')
    if (url.pathname === '/hls.min.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(hlsJs)
      return
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end()
      return
    }
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE)
      return
    }
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { origin, pageUrl: (srcs) => `${origin}/?${srcs.map((src) => `src=${encodeURIComponent(src)}`).join('&')}` }
}

/** What one player of the page saw, read with page.evaluate('window.seen') (one per src). */
export interface Seen {
  /** performance.now() of the first 'playing', or null. */
  firstPlaying: number | null
  /** 'waiting' events after the first 'playing' (ms, performance.now()). */
  waiting: number[]
  /** The longest time currentTime did not advance after the first 'playing' (ms). */
  longestStallMs: number
  /** Where the longest stall began (performance.now()). */
  longestStallAt: number | null
  currentTime: number
  /** hls.js errors: [time, type, details, fatal]. */
  errors: Array<[number, string, string, boolean]>
  /** Fragments loaded: [time, url]. */
  fragments: Array<[number, string]>
  /** Pathways the player switched to: [time, pathway]. */
  pathways: Array<[number, string]>
  /** Steering manifests loaded: [time, PATHWAY-PRIORITY]. */
  steering: Array<[number, string[]]>
  /** The page's clock against the test's (Date.now() − performance.now() in the page). */
  epoch: number
}

// The player page: for each src a muted video and an hls.js with its defaults, and a sampler of
// each one's currentTime every 100 ms.
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>geogate steering players</title></head>
<body>
<script src="/hls.min.js"></script>
<script>
window.seen = new URL(location.href).searchParams.getAll('src').map((src) => {
  const seen = { firstPlaying: null, waiting: [], longestStallMs: 0, longestStallAt: null, currentTime: 0, errors: [], fragments: [], pathways: [], steering: [], epoch: Date.now() - performance.now() }
  const video = document.createElement('video')
  Object.assign(video, { muted: true, autoplay: true, playsInline: true, width: 96, height: 64 })
  document.body.append(video)
  video.addEventListener('playing', () => { if (seen.firstPlaying === null) seen.firstPlaying = performance.now() })
  video.addEventListener('waiting', () => { if (seen.firstPlaying !== null) seen.waiting.push(performance.now()) })
  let last = -1
  let since = null
  setInterval(() => {
    const now = performance.now()
    seen.currentTime = video.currentTime
    if (seen.firstPlaying === null) return
    if (video.currentTime !== last) {
      last = video.currentTime
      since = now
      return
    }
    if (since !== null && now - since > seen.longestStallMs) {
      seen.longestStallMs = now - since
      seen.longestStallAt = since
    }
  }, 100)
  const hls = new Hls()
  hls.on(Hls.Events.ERROR, (event, data) => { seen.errors.push([performance.now(), data.type, data.details, data.fatal === true]) })
  hls.on(Hls.Events.FRAG_LOADED, (event, data) => { seen.fragments.push([performance.now(), data.frag.url]) })
  const pathway = (levels) => { const p = levels[0] && levels[0].pathwayId; if (p) seen.pathways.push([performance.now(), p]) }
  hls.on(Hls.Events.MANIFEST_PARSED, (event, data) => pathway(data.levels))
  hls.on(Hls.Events.LEVELS_UPDATED, (event, data) => pathway(data.levels))
  hls.on(Hls.Events.STEERING_MANIFEST_LOADED, (event, data) => { seen.steering.push([performance.now(), data.steeringManifest['PATHWAY-PRIORITY']]) })
  hls.loadSource(src)
  hls.attachMedia(video)
  return seen
})
</script>
</body></html>
`
