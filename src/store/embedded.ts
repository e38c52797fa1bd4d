// The embedded MongoDB-compatible store for `geogate dev` and the tests: a native binary from
// npm that prints `JONGODB_URI=mongodb://…` on stdout once it accepts connections.

import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import path from 'node:path'
import { stopChild } from '../stop-child.js'

export interface EmbeddedStore {
  url: string
  /** The store process's id. */
  pid: number | undefined
  /** Resolves when the store process ends, stopped or not, with the signal that ended it if any. */
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  stop: () => Promise<void>
}

export interface EmbeddedStoreOptions {
  host?: string
  /** 0 picks a free port. */
  port?: number
  database?: string
  /** How long to wait for the store to say it is ready. */
  startTimeoutMs?: number
}

export function embeddedStoreBinary (): string {
  const require = createRequire(import.meta.url)
  const pkg = require.resolve('@jongodb/memory-server-bin-linux-x64-gnu/package.json')
  return path.join(path.dirname(pkg), 'bin', 'jongodb')
}

export async function startEmbeddedStore (options: EmbeddedStoreOptions = {}): Promise<EmbeddedStore> {
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 0
  const database = options.database ?? 'geogate'
  const child = spawn(embeddedStoreBinary(), [`--host=${host}`, `--port=${port}`, `--database=${database}`], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  const url = await waitForUri(child, options.startTimeoutMs ?? 15_000)
  return { url, pid: child.pid, exited, stop: () => stopChild(child) }
}

function waitForUri (child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    const timer = setTimeout(() => fail(new Error(`embedded store did not start within ${timeoutMs} ms: ${err.trim()}`)), timeoutMs)
    function fail (error: Error): void {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(error)
    }
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /JONGODB_URI=(\S+)/.exec(out)
      if (match?.[1] !== undefined) {
        clearTimeout(timer)
        // Keep draining the pipes so the child never blocks on a full one.
        child.stdout?.resume()
        resolve(match[1])
      }
    })
    child.stderr?.on('data', (chunk: Buffer) => { err = (err + chunk.toString()).slice(-4000) })
    child.once('error', fail)
    child.once('exit', (code, signal) => fail(new Error(`embedded store exited (${code ?? signal}) before it was ready: ${err.trim()}`)))
  })
}
