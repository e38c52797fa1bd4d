// How busy a process was: its CPU time from /proc (Linux), so a run can tell whether the server
// or the load generator was the limit. Elsewhere the numbers are NaN.

import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

let ticksPerSecond: number | undefined

function clockTicks (): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      ticksPerSecond = 100
    }
  }
  return ticksPerSecond
}

/** User plus system CPU seconds the process has used; NaN when it cannot be read. */
export function cpuSeconds (pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name may hold spaces; the fields after it are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / clockTicks()
  } catch {
    return Number.NaN
  }
}

/**
 * Runs work and returns its result with the share of one core the server used meanwhile (0–100;
 * a server of several processes, a node's nginx and its gateway, counts them together), and
 * the share the others used together (the gateway's upstreams, say), when others are given.
 */
export async function withCpuShare<T> (server: number | readonly number[], work: () => Promise<T>, others: readonly number[] = []): Promise<{ result: T, cpuPercent: number, othersCpuPercent?: number }> {
  const total = (pids: readonly number[]): number => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0)
  const pids = typeof server === 'number' ? [server] : server
  const before = total(pids)
  const othersBefore = total(others)
  const start = process.hrtime.bigint()
  const result = await work()
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  const share = (used: number): number => Math.round(used / seconds * 1000) / 10
  const cpuPercent = share(total(pids) - before)
  return others.length === 0 ? { result, cpuPercent } : { result, cpuPercent, othersCpuPercent: share(total(others) - othersBefore) }
}
