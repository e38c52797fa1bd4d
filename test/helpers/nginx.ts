// A real nginx for a test: a config written into a temp dir (prefix, pid, logs and temp paths
// all inside it), run in the foreground as a child process on a free loopback port, stopped
// in teardown. The node it plays guards /flv with auth_request against the gateway's /verify.

import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { freePort } from './wait.js'
import type { Test } from 'tap'
import { stopChild } from '../../src/stop-child.js'
import { portOpen } from './port-open.js'

export interface NginxNodeOptions {
  /** Where /verify is: the gateway's origin, e.g. http://127.0.0.1:PORT. */
  gatewayUrl: string
  /** The node id nginx sends as X-Geogate-Node. */
  nodeId: string
  /** The node's key, which nginx sends /verify as a bearer. */
  nodeKey: string
  /** The file served at /flv once /verify answers 204. */
  flvFile: string
}

export interface RunningNginx {
  port: number
  url: string
  /** The error log so far, for failure messages. */
  errorLog: () => Promise<string>
  stop: () => Promise<void>
  /** Kills it with SIGKILL, as a node dies: no connection is closed cleanly. Resolves once it is gone. */
  kill: () => Promise<void>
}

/** The nginx binary on PATH (or in /usr/sbin), or undefined when nginx is not installed. */
export function findNginx (): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' })
  const onPath = found.status === 0 ? found.stdout.trim() : ''
  if (onPath !== '') return onPath
  return ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'].find((candidate) => existsSync(candidate))
}

/**
 * What every test nginx runs with, before its http block: in the foreground, one process, its
 * pid and error log in dir.
 */
export function nginxMain (dir: string, options: { errorLevel: 'info' | 'warn', connections: number }): string {
  const q = (value: string): string => JSON.stringify(value)
  return `daemon off;
master_process off;
worker_processes 1;
pid ${q(path.join(dir, 'nginx.pid'))};
error_log ${q(path.join(dir, 'error.log'))} ${options.errorLevel};
events { worker_connections ${options.connections}; }`
}

/** The http block's temp paths, in dir: nginx's defaults are outside a test's reach. */
export function nginxTempPaths (dir: string): string {
  const q = (value: string): string => JSON.stringify(value)
  return ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${q(path.join(dir, kind))};`).join('\n')
}

export function nginxConfig (dir: string, port: number, options: NginxNodeOptions): string {
  const q = (value: string): string => JSON.stringify(value)
  return `${nginxMain(dir, { errorLevel: 'info', connections: 64 })}
http {
  access_log off;
${nginxTempPaths(dir)}
  server {
    listen 127.0.0.1:${port};
    location = /flv {
      auth_request /_geogate_verify;
      default_type video/x-flv;
      alias ${q(options.flvFile)};
    }
    location = /_geogate_verify {
      internal;
      proxy_pass ${options.gatewayUrl}/verify;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Geogate-Node ${q(options.nodeId)};
      proxy_set_header Authorization ${q(`Bearer ${options.nodeKey}`)};
      proxy_set_header X-Real-IP $remote_addr;
    }
  }
}
`
}

/** Starts nginx and waits until it accepts connections; a port taken meanwhile is retried. */
export async function startNginxNode (t: Test, binary: string, options: NginxNodeOptions): Promise<RunningNginx> {
  return await startNginx(t, binary, (dir, port) => nginxConfig(dir, port, options))
}

/** Starts nginx with the config render gives for its temp dir and port. */
export async function startNginx (t: Test, binary: string, render: (dir: string, port: number) => string): Promise<RunningNginx & { dir: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'geogate-nginx-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const errorLog = async (): Promise<string> => await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '')
  let lastFailure = ''
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const config = path.join(dir, 'nginx.conf')
    await writeFile(config, render(dir, port))
    // -e: the log nginx writes before it has read the config, kept inside the temp dir too.
    const child = spawn(binary, ['-p', `${dir}/`, '-c', config, '-e', path.join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    const deadline = Date.now() + 10_000
    let up = false
    while (!up && child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
      up = await portOpen(port)
      if (!up) await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 50))])
    }
    if (up) {
      t.teardown(() => stopChild(child))
      const kill = async (): Promise<void> => {
        if (child.exitCode !== null || child.signalCode !== null) return
        child.kill('SIGKILL')
        await exited
      }
      return { port, url: `http://127.0.0.1:${port}`, dir, errorLog, stop: () => stopChild(child), kill }
    }
    await stopChild(child)
    lastFailure = `${stderr}\n${await errorLog()}`
    if (!/Address already in use/.test(lastFailure)) break
  }
  throw new Error(`nginx did not start:\n${lastFailure}`)
}
