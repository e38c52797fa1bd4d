// What a bench run found: the numbers, the budgets of DESIGN section 8 checked against them,
// and the same as JSON and as a Markdown table.

import type { GeoMatchBenchResult } from '../geo-match.bench.js'
import type { SelectionBenchResult } from '../select-node.bench.js'
import type { SignBenchResult } from '../sign.bench.js'
import type { GatewaySample } from './probe.js'
import type { LoadScenarioName } from './scenarios.js'
import type { WrkResult } from './wrk.js'

export interface ScenarioResult {
  name: LoadScenarioName
  title: string
  gateway: WrkResult
  /**
   * How much of one core the gateway used during its measured run: near 100, it was the limit;
   * well below, something else was (the load generator, an upstream).
   */
  gatewayCpuPercent: number
  /** The baseline, measured before and after the gateway. */
  baselines: Array<{ when: 'before' | 'after', result: WrkResult, cpuPercent: number }>
  /** The mean of the baseline runs. */
  baselineRequestsPerSec: number
  /** Gateway requests/s over the baseline's mean. */
  ratio: number
  /** What the measured gateway run did, from its /metrics. */
  gatewaySample: GatewaySample
  /** The gateway's heap after a full collection, after the measured run. */
  heapAfterGcMb: number
  notes: string[]
}

export interface MicroResults {
  selection?: SelectionBenchResult
  geoMatch?: GeoMatchBenchResult
  signing?: SignBenchResult
  errors: string[]
}

export type BudgetStatus = 'PASS' | 'FAIL' | 'SKIP'

export interface BudgetCheck {
  name: string
  limit: string
  measured: string
  status: BudgetStatus
}

export interface BenchReport {
  startedAt: string
  finishedAt: string
  elapsedS: number
  environment: Record<string, string | number | boolean>
  settings: Record<string, string | number | boolean>
  scenarios: ScenarioResult[]
  /** Scenarios that could not be measured, with why. */
  failures: Array<{ scenario: string, error: string }>
  micro?: MicroResults
  budgets: BudgetCheck[]
}

const fmt = (value: number, digits = 2): string => Number.isFinite(value) ? value.toFixed(digits) : 'n/a'
const int = (value: number): string => Math.round(value).toLocaleString('en-US')

/** A run whose answers were not all redirects says nothing about the budgets. */
export function runProblem (scenario: ScenarioResult): string | undefined {
  const { gateway } = scenario
  const errors = gateway.non2xx3xx + gateway.socketErrors.connect + gateway.socketErrors.read + gateway.socketErrors.write + gateway.socketErrors.timeout
  if (gateway.requests === 0) return 'no requests completed'
  if (errors / gateway.requests > 0.001) return `${int(errors)} of ${int(gateway.requests)} requests failed`
  return undefined
}

function cpuRatio (s: ScenarioResult): string {
  const gateway = cpuPerRequestUs(s.gatewayCpuPercent, s.gateway)
  const baseline = s.baselines.reduce((sum, b) => sum + cpuPerRequestUs(b.cpuPercent, b.result), 0) / s.baselines.length
  return `${fmt(gateway, 1)} vs ${fmt(baseline, 1)} µs, ${fmt(baseline / gateway)} ×`
}

export function checkBudgets (scenarios: readonly ScenarioResult[], micro: MicroResults | undefined): BudgetCheck[] {
  const find = (name: LoadScenarioName): ScenarioResult | undefined => scenarios.find((s) => s.name === name)
  const checks: BudgetCheck[] = []
  const add = (name: string, limit: string, measured: string | undefined, pass: boolean): void => {
    checks.push({ name, limit, measured: measured ?? 'not measured', status: measured === undefined ? 'SKIP' : pass ? 'PASS' : 'FAIL' })
  }
  const valid = (s: ScenarioResult | undefined): s is ScenarioResult => s !== undefined
  const warm = find('warm')
  const warmProblem = warm === undefined ? undefined : runProblem(warm)
  const invalid = (problem: string | undefined): string => problem === undefined ? '' : ` (invalid run: ${problem})`

  add('warm throughput', '≥ 0.70 × baseline req/s',
    valid(warm) ? `${fmt(warm.ratio)} × (${int(warm.gateway.requestsPerSec)} vs ${int(warm.baselineRequestsPerSec)} req/s; CPU per request ${cpuRatio(warm)})${invalid(warmProblem)}` : undefined,
    valid(warm) && warmProblem === undefined && warm.ratio >= 0.7)
  add('warm p99', '≤ 5 ms at 64 connections',
    valid(warm) ? `${fmt(warm.gateway.p99Ms)} ms${invalid(warmProblem)}` : undefined,
    valid(warm) && warmProblem === undefined && warm.gateway.p99Ms <= 5)

  const hundred = micro?.selection?.groups.filter((g) => g.nodes === 100) ?? []
  const worst = hundred.length === 0 ? undefined : Math.max(...hundred.map((g) => g.nsPerOp)) / 1000
  add('selection, 100 nodes', '< 20 µs', worst === undefined ? undefined : `${fmt(worst)} µs (worst of even and skewed load)`, worst !== undefined && worst < 20)

  const snapshot = micro?.selection?.snapshot
  add(`snapshot of ${int(snapshot?.nodes ?? 10_000)} nodes`, '< 50 MB heap',
    snapshot === undefined ? undefined : `${fmt(snapshot.totalMb)} MB (documents ${fmt(snapshot.totalMb - snapshot.snapshotMb)} + index ${fmt(snapshot.snapshotMb)})${snapshot.gcExposed ? '' : ', no --expose-gc'}`,
    snapshot !== undefined && snapshot.totalMb < 50)

  const many = find('many-nodes')
  const live = valid(many) && valid(warm) ? many.heapAfterGcMb - warm.heapAfterGcMb : undefined
  add('snapshot of many nodes, in the running gateway', '< 50 MB heap',
    live === undefined ? undefined : `${fmt(live)} MB (gateway heap after GC: many-nodes ${fmt((many as ScenarioResult).heapAfterGcMb)} − warm ${fmt((warm as ScenarioResult).heapAfterGcMb)} MB)`,
    live !== undefined && live < 50)

  const down = find('resolver-down')
  const downProblem = down === undefined ? undefined : runProblem(down)
  const both = valid(down) && valid(warm)
  add('resolver down p99', '≤ 2 × warm p99',
    both ? `${fmt(down.gateway.p99Ms)} ms = ${fmt(down.gateway.p99Ms / warm.gateway.p99Ms)} × warm ${fmt(warm.gateway.p99Ms)} ms${invalid(downProblem ?? warmProblem)}` : undefined,
    both && downProblem === undefined && warmProblem === undefined && down.gateway.p99Ms <= 2 * warm.gateway.p99Ms)
  return checks
}

/** The server's CPU time per answered request: steadier than requests/s on a busy machine. */
export function cpuPerRequestUs (cpuPercent: number, run: WrkResult): number {
  return cpuPercent / 100 / run.requestsPerSec * 1e6
}

function describeSample (sample: GatewaySample, heapAfterGcMb: number): string {
  const parts = Object.entries(sample.answers).map(([status, n]) => `${status}: ${int(n)}`)
  const geo = Object.entries(sample.geoSources).map(([source, n]) => `${source} ${int(n)}`)
  if (geo.length > 0) parts.push(`geo: ${geo.join(', ')}`)
  parts.push(`event-loop delay p99 ${fmt(sample.eventLoopDelayP99Ms, 1)} ms, max ${fmt(sample.eventLoopDelayMaxMs, 1)} ms`)
  parts.push(`heap ${fmt(sample.heapUsedMb, 1)} MB (${fmt(heapAfterGcMb, 1)} MB after GC), rss ${fmt(sample.rssMb, 1)} MB`)
  return parts.join('; ')
}

export function markdownReport (report: BenchReport): string {
  const lines: string[] = []
  const env = report.environment
  lines.push(`# geogate bench, ${report.startedAt}`, '')
  lines.push(`node ${String(env.node)}, ${String(env.cpus)} × ${String(env.cpuModel)}; load average ${String(env.loadAverage)} at the start, ${String(env.loadAverageAtEnd ?? '?')} at the end; ` +
    `${String(env.pinning)}; servers ${String(env.serverMode)}; ` +
    `\`wrk -t1 -c64 -d${String(report.settings.durationS)}s --latency\` after a ${String(report.settings.warmupS)} s warm-up; git ${String(env.git)}`, '')

  if (report.scenarios.length > 0) {
    lines.push('## Load', '')
    lines.push('| scenario | server | req/s | p50 ms | p99 ms | max ms | vs baseline | server CPU | CPU µs per request | wrk CPU | what the gateway answered |')
    lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |')
    for (const s of report.scenarios) {
      lines.push(`| ${s.name} | gateway | ${int(s.gateway.requestsPerSec)} | ${fmt(s.gateway.p50Ms)} | ${fmt(s.gateway.p99Ms)} | ${fmt(s.gateway.maxMs, 1)} | ${fmt(s.ratio)} × | ${fmt(s.gatewayCpuPercent, 0)} % | ${fmt(cpuPerRequestUs(s.gatewayCpuPercent, s.gateway), 1)} | ${fmt(s.gateway.clientCpuPercent, 0)} % | ${describeSample(s.gatewaySample, s.heapAfterGcMb)} |`)
      for (const b of s.baselines) {
        lines.push(`| ${s.name} | baseline, ${b.when} | ${int(b.result.requestsPerSec)} | ${fmt(b.result.p50Ms)} | ${fmt(b.result.p99Ms)} | ${fmt(b.result.maxMs, 1)} | ${fmt(b.result.requestsPerSec / s.baselineRequestsPerSec)} × | ${fmt(b.cpuPercent, 0)} % | ${fmt(cpuPerRequestUs(b.cpuPercent, b.result), 1)} | ${fmt(b.result.clientCpuPercent, 0)} % | |`)
      }
    }
    lines.push('')
    for (const s of report.scenarios) {
      lines.push(`- **${s.name}**: ${s.title}.${s.notes.length > 0 ? ' ' + s.notes.join(' ') : ''}`)
    }
    lines.push('')
  }
  for (const failure of report.failures) lines.push(`- **${failure.scenario} failed**: ${failure.error.split('\n')[0] ?? ''}`)
  if (report.failures.length > 0) lines.push('')

  const micro = report.micro
  if (micro !== undefined) {
    lines.push('## Microbenchmarks', '')
    lines.push('| what | result |', '| --- | --- |')
    for (const size of [10, 100, 1000]) {
      const rows = micro.selection?.groups.filter((g) => g.nodes === size) ?? []
      if (rows.length > 0) lines.push(`| selection over ${int(size)} nodes (${rows.map((r) => r.load).join(' / ')} load) | ${rows.map((r) => `${fmt(r.nsPerOp / 1000)} µs`).join(' / ')} |`)
    }
    const snapshot = micro.selection?.snapshot
    if (snapshot !== undefined) {
      lines.push(`| snapshot of ${int(snapshot.nodes)} nodes: heap with its documents (index alone), build time | ${fmt(snapshot.totalMb)} MB (${fmt(snapshot.snapshotMb)} MB), ${fmt(snapshot.buildMs)} ms |`)
    }
    const geo = micro.geoMatch
    if (geo !== undefined) {
      for (const c of geo.cases) lines.push(`| geo-group match, ${int(geo.cidrRules)} CIDR rules: ${c.name} | ${fmt(c.nsPerOp, 0)} ns |`)
      lines.push(`| geo-group match, mixed | ${fmt(geo.mixedNsPerOp, 0)} ns |`)
    }
    const sign = micro.signing
    if (sign !== undefined) {
      lines.push(`| signing a stream URL, HS256 (${sign.tokenLength}-char JWT) | ${fmt(sign.hs256UsPerOp)} µs |`)
      lines.push(`| signing a stream URL, ES256 | ${fmt(sign.es256UsPerOp)} µs |`)
    }
    for (const error of micro.errors) lines.push(`| failed | ${error.split('\n')[0] ?? ''} |`)
    lines.push('')
  }

  lines.push('## Budgets (DESIGN section 8)', '')
  lines.push('| budget | limit | measured | result |', '| --- | --- | --- | --- |')
  for (const b of report.budgets) lines.push(`| ${b.name} | ${b.limit} | ${b.measured} | ${b.status} |`)
  lines.push('', 'The burst budgets (one auth-server and one resolver call per burst) are checked by the tests, not here.', '')
  return lines.join('\n')
}

export function budgetLines (budgets: readonly BudgetCheck[]): string {
  return budgets.map((b) => `${b.status} ${b.name}: ${b.measured} (limit ${b.limit})`).join('\n')
}
