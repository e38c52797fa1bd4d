// Load from a second process: wrk, one thread, 64 connections, its latency distribution parsed
// out of the text it prints.

import { startChild, hasCommand } from './children.js'
import { cpuSeconds } from './cpu.js'

export interface WrkLoad {
  url: string
  durationS: number
  connections?: number
  headers?: readonly string[]
  /** A Lua script for wrk (-s), and the arguments it gets after `--`. */
  script?: string
  scriptArgs?: readonly string[]
  core?: number
}

export interface WrkResult {
  requests: number
  durationS: number
  requestsPerSec: number
  /** Milliseconds. */
  p50Ms: number
  p75Ms: number
  p90Ms: number
  p99Ms: number
  maxMs: number
  /** Answers with a status of 400 or more. */
  non2xx3xx: number
  socketErrors: { connect: number, read: number, write: number, timeout: number }
  /** How much of a core wrk itself used (sampled while it ran); near 100, wrk was the limit. */
  clientCpuPercent: number
}

export class WrkMissingError extends Error {
  constructor () {
    super('wrk is not installed. Install it (Debian/Ubuntu: `apt-get install -y wrk`; macOS: `brew install wrk`) and run the bench again.')
    this.name = 'WrkMissingError'
  }
}

export function requireWrk (): void {
  if (!hasCommand('wrk')) throw new WrkMissingError()
}

const unitsMs: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

function durationMs (text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim())
  if (match === null) throw new Error(`wrk: cannot read the duration ${JSON.stringify(text)}`)
  return Number(match[1]) * (unitsMs[match[2] as string] as number)
}

/** Reads wrk's `--latency` report. Throws when a number it needs is not there. */
export function parseWrkOutput (output: string): Omit<WrkResult, 'clientCpuPercent'> {
  const percentile = (p: number): number => {
    const match = new RegExp(`^\\s+${p}%\\s+(\\S+)\\s*$`, 'm').exec(output)
    if (match?.[1] === undefined) throw new Error(`wrk: no ${p}% latency in its output:\n${output}`)
    return durationMs(match[1])
  }
  const done = /^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),/m.exec(output)
  const rate = /^Requests\/sec:\s+([\d.]+)/m.exec(output)
  const max = /^[ \t]+Latency[ \t]+\S+[ \t]+\S+[ \t]+(\S+)/m.exec(output)
  if (done === null || rate === null) throw new Error(`wrk: no request count in its output:\n${output}`)
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output)
  const non = /Non-2xx or 3xx responses: (\d+)/.exec(output)
  return {
    requests: Number(done[1]),
    durationS: durationMs(`${done[2]}${done[3]}`) / 1000,
    requestsPerSec: Number(rate[1]),
    p50Ms: percentile(50),
    p75Ms: percentile(75),
    p90Ms: percentile(90),
    p99Ms: percentile(99),
    maxMs: max?.[1] !== undefined ? durationMs(max[1]) : Number.NaN,
    non2xx3xx: non === null ? 0 : Number(non[1]),
    socketErrors: {
      connect: Number(errors?.[1] ?? 0),
      read: Number(errors?.[2] ?? 0),
      write: Number(errors?.[3] ?? 0),
      timeout: Number(errors?.[4] ?? 0)
    }
  }
}

/**
 * The error wrk printed for its Lua script, or undefined. wrk reports a script that fails to
 * load or run (`<script>: <script>:14: module 'x' not found`) and still exits 0 after sending
 * plain requests, which would measure the wrong load.
 */
export function scriptError (output: string, script: string): string | undefined {
  return output.split('\n').find((line) => line.startsWith(`${script}: `))
}

/** Runs wrk once and waits for it (never longer than its duration plus 20 s). */
export async function runWrk (load: WrkLoad): Promise<WrkResult> {
  const duration = Math.max(1, Math.round(load.durationS))
  const args = ['-t1', `-c${load.connections ?? 64}`, `-d${duration}s`, '--latency', '--timeout', '5s']
  for (const header of load.headers ?? []) args.push('-H', header)
  if (load.script !== undefined) args.push('-s', load.script)
  args.push(load.url)
  if (load.scriptArgs !== undefined && load.scriptArgs.length > 0) args.push('--', ...load.scriptArgs)
  const wrk = startChild('wrk', 'wrk', args, load.core !== undefined ? { core: load.core } : {})
  const timer = setTimeout(() => { void wrk.stop(1000) }, (duration + 20) * 1000)
  // wrk's CPU time can only be read while it runs: the first and the latest reading.
  let first: [number, number] | undefined
  let latest: [number, number] | undefined
  const sampler = setInterval(() => {
    const reading: [number, number] = [performance.now(), cpuSeconds(wrk.pid)]
    if (Number.isNaN(reading[1])) return
    first ??= reading
    latest = reading
  }, 250)
  const code = await wrk.exited
  clearTimeout(timer)
  clearInterval(sampler)
  if (code !== 0) throw new Error(`wrk exited with ${code}:\n${wrk.output()}`)
  const failed = load.script === undefined ? undefined : scriptError(wrk.output(), load.script)
  if (failed !== undefined) throw new Error(`wrk's script failed: ${failed}`)
  const clientCpuPercent = first !== undefined && latest !== undefined && latest[0] > first[0]
    ? Math.round((latest[1] - first[1]) / ((latest[0] - first[0]) / 1000) * 1000) / 10
    : Number.NaN
  return { ...parseWrkOutput(wrk.output()), clientCpuPercent }
}
