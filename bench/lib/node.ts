// The node scenarios' streaming node: a real nginx configured with the README's node blocks
// (test/helpers/readme-node.ts reads them, so README, tests and bench cannot drift), serving
// HLS files from a temp folder; for node-cached, with docs/nodes.md's optional cache of /verify
// answers added as that page says (its blocks read from it too). The same nginx has a second server whose locations are the
// README's without `auth_request`, serving the same files: the bench's baseline for the node, on
// the same worker process and core. One worker, no master, so the one process is all of
// nginx's CPU and sits on the core it is pinned to.

import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { root } from './build.js'
import { fillPlaceholders, readmeNginxBlocks, replacePlaceholder } from '../../test/helpers/readme-node.js'
import { demoNodeKey } from '../../src/demo/demo-data.js'
import { hasCommand, startChild, type Child } from './children.js'
import { probe } from './probe.js'
import { HLS_CAMERA, HLS_NODE, HLS_SERVER } from './sessions.js'
import { closedPort, SERVER_CORE } from './system.js'

export interface BenchNode {
  child: Child
  /** The README's server: every playlist and segment checked by the gateway's /verify. */
  checkedUrl: string
  /** The same locations without auth_request. */
  uncheckedUrl: string
  stop: () => Promise<void>
}

/** Segment files in the live window, each requested in turn. */
export const NODE_SEGMENTS = 6
/**
 * A segment's size: ten TS packets. Small, so the ratio compares the check with nginx's cheapest
 * answer; a real segment of hundreds of kB makes the check a smaller share of a node's work.
 */
const SEGMENT_BYTES = 1880
const AUTH_REQUEST = /^\s*auth_request \/_geogate_verify;\n/gm

function nginxBinary (): string {
  if (hasCommand('nginx')) return 'nginx'
  const found = ['/usr/sbin/nginx', '/usr/local/sbin/nginx'].find((candidate) => existsSync(candidate))
  if (found === undefined) throw new Error('nginx is not installed (Debian: apt-get install -y nginx)')
  return found
}

function writeStream (hlsRoot: string): void {
  const dir = path.join(hlsRoot, HLS_SERVER, HLS_CAMERA)
  mkdirSync(dir, { recursive: true })
  const segments = Array.from({ length: NODE_SEGMENTS }, (_, i) => `#EXTINF:2.000,\nseg-${i}.ts`)
  writeFileSync(path.join(dir, 'index.m3u8'), ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:0', ...segments, ''].join('\n'))
  for (let i = 0; i < NODE_SEGMENTS; i++) writeFileSync(path.join(dir, `seg-${i}.ts`), Buffer.alloc(SEGMENT_BYTES, 0x47))
}

/** docs/nodes.md's nginx block under `<!-- verify-cache:NAME -->`, as written. */
function verifyCacheBlock (name: 'http' | 'location'): string {
  const text = readFileSync(path.join(root, 'docs', 'nodes.md'), 'utf8')
  const marker = `<!-- verify-cache:${name} -->\n\`\`\`nginx\n`
  const start = text.indexOf(marker)
  if (start < 0) throw new Error(`docs/nodes.md has no ${marker.trim()} block`)
  return text.slice(start + marker.length, text.indexOf('\n```', start + marker.length) + 1)
}

/** The cache's blocks: its http part with its folder (in dir, or on a tmpfs), and the lines for the /verify location. */
function verifyCache (dir: string): { http: string, location: string, folder: string } {
  // Where the page suggests: on a tmpfs, when the machine has one.
  const folder = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/geogate-bench-verify-cache-') : path.join(dir, 'verify-cache')
  return { http: replacePlaceholder(verifyCacheBlock('http'), '/var/cache/nginx/geogate-verify', folder), location: verifyCacheBlock('location'), folder }
}

/** The server block with lines added at the end of its `location = /_geogate_verify { }`. */
function addToVerifyLocation (server: string, lines: string): string {
  const start = server.indexOf('location = /_geogate_verify {')
  const end = start < 0 ? -1 : server.indexOf('\n}', start)
  if (end < 0) throw new Error('the README\'s node config has no location = /_geogate_verify block')
  return `${server.slice(0, end)}\n${lines.trimEnd().split('\n').map((line) => `    ${line}`).join('\n')}${server.slice(end)}`
}

/**
 * Starts the node in front of the gateway at gatewayHost (`host:port`), pinned beside it; with
 * docs/nodes.md's cache of /verify answers when cached.
 */
export async function startBenchNode (gatewayHost: string, cached = false): Promise<BenchNode> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'geogate-bench-node-'))
  const hlsRoot = path.join(dir, 'hls')
  writeStream(hlsRoot)
  const readme = fillPlaceholders(await readmeNginxBlocks(), {
    gateways: [gatewayHost],
    nodeId: HLS_NODE,
    nodeKey: demoNodeKey(HLS_NODE),
    hlsRoot,
    // Nothing listens there: the scenario asks for HLS only.
    flvOrigin: '127.0.0.1:9',
    wsOrigin: '127.0.0.1:9'
  })
  const cache = cached ? verifyCache(dir) : undefined
  const blocks = cache === undefined ? readme : { http: `${readme.http}${cache.http}`, server: addToVerifyLocation(readme.server, cache.location) }
  const unchecked = blocks.server.replace(AUTH_REQUEST, '')
  if (unchecked === blocks.server) throw new Error('the README\'s node config has no auth_request line to leave out')
  const [checkedPort, uncheckedPort] = [await closedPort(), await closedPort()]
  const q = (value: string): string => JSON.stringify(value)
  const config = path.join(dir, 'nginx.conf')
  writeFileSync(config, `daemon off;
master_process off;
worker_processes 1;
pid ${q(path.join(dir, 'nginx.pid'))};
error_log ${q(path.join(dir, 'error.log'))} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${q(path.join(dir, 'client_body'))};
  proxy_temp_path ${q(path.join(dir, 'proxy'))};
  fastcgi_temp_path ${q(path.join(dir, 'fastcgi'))};
  uwsgi_temp_path ${q(path.join(dir, 'uwsgi'))};
  scgi_temp_path ${q(path.join(dir, 'scgi'))};
${blocks.http}
  server {
    listen 127.0.0.1:${checkedPort};
${blocks.server}
  }
  server {
    listen 127.0.0.1:${uncheckedPort};
${unchecked}
  }
}
`)
  const child = startChild('nginx node', nginxBinary(), ['-p', `${dir}/`, '-c', config, '-e', path.join(dir, 'error.log')], { core: SERVER_CORE })
  const checkedUrl = `http://127.0.0.1:${checkedPort}`
  const uncheckedUrl = `http://127.0.0.1:${uncheckedPort}`
  const stop = async (): Promise<void> => {
    await child.stop()
    rmSync(dir, { recursive: true, force: true })
    if (cache !== undefined) rmSync(cache.folder, { recursive: true, force: true })
  }
  const until = Date.now() + 10_000
  for (;;) {
    const up = await probe(`${uncheckedUrl}/hls/x/${HLS_SERVER}/${HLS_CAMERA}/index.m3u8`).then((answer) => answer.status === 200, () => false)
    if (up) break
    if (Date.now() > until || child.process.exitCode !== null) {
      const output = child.output()
      await stop()
      throw new Error(`nginx did not start:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { child, checkedUrl, uncheckedUrl, stop }
}
