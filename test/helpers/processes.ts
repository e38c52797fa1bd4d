// Real geogate processes for tests: `geogate <command>` on free ports, stopped in teardown.
//
// A process runs the compiled CLI (dist/, what `npm start` and bin/geogate.js run) when it is
// newer than every source file, else the sources under tsx. `npm test` builds dist first;
// compiling the sources on the fly costs each child about four seconds of CPU against one.

import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import type { Test } from 'tap'
import { repoRoot as root } from './repo-root.js'

const sources = path.join(root, 'src')
const compiled = path.join(root, 'dist', 'cli.js')

function newestSource (dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs)
  }
  return newest
}

let cliArgs: string[] | undefined

/** How to run the CLI: the compiled one when it is current, else the sources under tsx. */
export function geogateArgs (): string[] {
  if (cliArgs !== undefined) return cliArgs
  let current = false
  try {
    current = statSync(compiled).mtimeMs >= newestSource(sources)
  } catch {
    // Not built.
  }
  cliArgs = current ? [compiled] : ['--import', 'tsx', path.join(sources, 'cli.ts')]
  return cliArgs
}

/** The service keys every test process gets unless its env names others. */
export const TEST_SERVICE_KEYS = 'gw-test:geogate-test-service-secret-0123456789abcdef'

export interface GeogateProcess {
  url: string
  /** Where its /metrics is: the separate listener it printed, else url/metrics. */
  metricsUrl: string
  child: ChildProcess
  output: () => string
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
}

/**
 * Starts `geogate command` with env and waits until it prints `listening on URL` (or, for
 * `dev`, the ready banner). Resolves with the first URL it printed.
 */
export async function startGeogate (t: Test, command: string, env: Record<string, string>, options: { readyPattern?: RegExp, timeoutMs?: number } = {}): Promise<GeogateProcess> {
  const child = spawn(process.execPath, [...geogateArgs(), command], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', HOST: '127.0.0.1', SERVICE_KEYS: TEST_SERVICE_KEYS, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  const ready = options.readyPattern ?? /listening on (http:\/\/\S+)/
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`geogate ${command} did not start:\n${output}`)) }, options.timeoutMs ?? 30_000)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = ready.exec(output)
      if (match !== null) {
        clearTimeout(timer)
        resolve(match[1] ?? '')
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`geogate ${command} exited with ${code}:\n${output}`)) })
  })
  const stop = (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
    return new Promise((resolve) => {
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000)
      child.once('exit', (code) => { clearTimeout(force); resolve(code) })
      child.kill(signal)
    })
  }
  t.teardown(() => stop())
  const metricsUrl = /\(metrics: (http:\/\/\S+)\)/.exec(output)?.[1] ?? `${url}/metrics`
  return { url, metricsUrl, child, output: () => output, stop }
}
