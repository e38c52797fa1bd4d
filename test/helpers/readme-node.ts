// A streaming node configured exactly as the README documents it: the nginx blocks under the
// `<!-- node-nginx:http -->` and `<!-- node-nginx:server -->` markers in README.md, with their
// placeholders filled in, inside a test's own http and server blocks (temp paths, loopback
// port, an access log that records the /verify subrequests too). README and tests cannot drift.

import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { startNginx, type RunningNginx } from './nginx.js'

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

export async function startReadmeNode (t: Test, binary: string, options: ReadmeNodeOptions): Promise<ReadmeNode> {
  const blocks = fillPlaceholders(await readmeNginxBlocks(), options)
  const q = (value: string): string => JSON.stringify(value)
  const node = await startNginx(t, binary, (dir, port) => `daemon off;
master_process off;
worker_processes 1;
pid ${q(path.join(dir, 'nginx.pid'))};
error_log ${q(path.join(dir, 'error.log'))} warn;
events { worker_connections 256; }
http {
  log_format geogate '$remote_addr $uri $status $request_uri $upstream_addr $msec';
  access_log ${q(path.join(dir, 'access.log'))} geogate;
  log_subrequest on;
  client_body_temp_path ${q(path.join(dir, 'client_body'))};
  proxy_temp_path ${q(path.join(dir, 'proxy'))};
  fastcgi_temp_path ${q(path.join(dir, 'fastcgi'))};
  uwsgi_temp_path ${q(path.join(dir, 'uwsgi'))};
  scgi_temp_path ${q(path.join(dir, 'scgi'))};
${blocks.http}
  server {
    listen 127.0.0.1:${port};
${blocks.server}
  }
}
`)
  return {
    ...node,
    async accessLog () {
      const text = await readFile(path.join(node.dir, 'access.log'), 'utf8').catch(() => '')
      return text.split('\n').filter((line) => line !== '').map((line) => {
        const [client = '', uri = '', status = '0', requestUri = '', upstream = '-', msec = '0'] = line.split(' ')
        return { client, uri, status: Number(status), requestUri, upstream, at: Math.round(Number(msec) * 1000) }
      })
    }
  }
}
