// A streaming node configured exactly as the README documents it: the nginx blocks under the
// `<!-- node-nginx:http -->` and `<!-- node-nginx:server -->` markers in README.md, with their
// placeholders filled in, inside a test's own http and server blocks (temp paths, loopback
// port, an access log that records the /verify subrequests too). README and tests cannot drift.

import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { nginxMain, nginxTempPaths, startNginx, type RunningNginx } from './nginx.js'

const readme = fileURLToPath(new URL('../../README.md', import.meta.url))

export interface ReadmeBlocks {
  http: string
  server: string
}

/** The README's nginx block under `<!-- KIND:NAME -->`, as written. */
export async function readmeBlock (kind: 'node-nginx' | 'node-rtmp', name: string): Promise<string> {
  const text = await readFile(readme, 'utf8')
  const marker = `<!-- ${kind}:${name} -->\n\`\`\`nginx\n`
  const start = text.indexOf(marker)
  if (start < 0) throw new Error(`README.md has no ${marker.trim()} block`)
  const end = text.indexOf('\n```', start + marker.length)
  return text.slice(start + marker.length, end + 1)
}

/** The README's node blocks, as written. */
export async function readmeNginxBlocks (): Promise<ReadmeBlocks> {
  return { http: await readmeBlock('node-nginx', 'http'), server: await readmeBlock('node-nginx', 'server') }
}

/** A README placeholder replaced; throws when the README lost it, so that README and tests cannot drift. */
export function replacePlaceholder (text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`the README's node config lost its ${from} placeholder`)
  return text.replaceAll(from, to)
}

export interface ReadmeNodeOptions {
  /** Gateway replicas, `host:port` each: one upstream server line per replica. */
  gateways: string[]
  nodeId: string
  /** The node's key, which nginx sends /verify. */
  nodeKey: string
  hlsRoot: string
  flvOrigin: string
  wsOrigin: string
}

export interface AccessLine {
  /** $remote_addr: the client. */
  client: string
  /** $uri: the request's path, or /_geogate_verify for the auth subrequest. */
  uri: string
  status: number
  /** $request_uri: the client's request, for both. */
  requestUri: string
  /** $upstream_addr: the gateway replica a /verify subrequest went to ('-' for none). */
  upstream: string
  /** $msec: when the line was written (the request's end), ms since the epoch. */
  at: number
  /** $upstream_cache_status of a /verify subrequest where nginx keeps answers (HIT, MISS…); '-' otherwise. */
  cache: string
}

export interface ReadmeNode extends RunningNginx {
  /** Parsed access log: every client request and every /verify subrequest. */
  accessLog: () => Promise<AccessLine[]>
}

export function fillPlaceholders (blocks: ReadmeBlocks, options: ReadmeNodeOptions): ReadmeBlocks {
  const replace = replacePlaceholder
  const servers = options.gateways.map((g) => `    server ${g};`).join('\n')
  let server = replace(blocks.server, 'NODE_ID', JSON.stringify(options.nodeId))
  server = replace(server, 'NODE_KEY', options.nodeKey)
  server = replace(server, 'HLS_ROOT', options.hlsRoot)
  server = replace(server, 'FLV_ORIGIN', options.flvOrigin)
  server = replace(server, 'WS_ORIGIN', options.wsOrigin)
  return { http: replace(blocks.http, '    server GATEWAY;', servers), server }
}

/** Configuration a test adds to the README's, as docs/ pages document optional parts. */
export interface ReadmeNodeExtras {
  /** Into the http block, after the README's; given the node's temp dir. */
  http?: (dir: string) => string
  /** Lines added at the end of the README's `location = /_geogate_verify`. */
  verifyLocation?: string
}

/** The README's server block with lines added at the end of its /verify location. */
function intoVerifyLocation (server: string, lines: string): string {
  const start = server.indexOf('location = /_geogate_verify {')
  const end = server.indexOf('\n}', start)
  if (start < 0 || end < 0) throw new Error('the README\'s node config lost its location = /_geogate_verify block')
  const indented = lines.trimEnd().split('\n').map((line) => `    ${line}`).join('\n')
  return `${server.slice(0, end)}\n${indented}${server.slice(end)}`
}

export async function startReadmeNode (t: Test, binary: string, options: ReadmeNodeOptions, extras: ReadmeNodeExtras = {}): Promise<ReadmeNode> {
  const blocks = fillPlaceholders(await readmeNginxBlocks(), options)
  const server = extras.verifyLocation === undefined ? blocks.server : intoVerifyLocation(blocks.server, extras.verifyLocation)
  const q = (value: string): string => JSON.stringify(value)
  const node = await startNginx(t, binary, (dir, port) => `${nginxMain(dir, { errorLevel: 'warn', connections: 256 })}
http {
  log_format geogate '$remote_addr $uri $status $request_uri $upstream_addr $msec $upstream_cache_status';
  access_log ${q(path.join(dir, 'access.log'))} geogate;
  log_subrequest on;
${nginxTempPaths(dir)}
${blocks.http}
${extras.http?.(dir) ?? ''}
  server {
    listen 127.0.0.1:${port};
${server}
  }
}
`)
  return {
    ...node,
    async accessLog () {
      const text = await readFile(path.join(node.dir, 'access.log'), 'utf8').catch(() => '')
      return text.split('\n').filter((line) => line !== '').map((line) => {
        const [client = '', uri = '', status = '0', requestUri = '', upstream = '-', msec = '0', cache = '-'] = line.split(' ')
        return { client, uri, status: Number(status), requestUri, upstream, cache, at: Math.round(Number(msec) * 1000) }
      })
    }
  }
}
