// What a bench run found: the numbers, the budgets of docs/design.md section 8 checked against them,
// and the same as JSON and as a Markdown table.

import type { GeoMatchBenchResult } from '../geo-match.bench.js'
import type { SelectionBenchResult } from '../select-node.bench.js'
import type { SignBenchResult } from '../sign.bench.js'
import type { StoreLookupBenchResult } from '../store-lookup.bench.js'
import type { GatewaySample } from './probe.js'
import type { LoadScenarioName } from './scenarios.js'
import type { WrkResult } from './wrk.js'

/** One wrk run and how much of one core the server used meanwhile. */
export interface MeasuredRun {
  result: WrkResult
  /** Near 100, the server was the limit; well below, something else was (wrk, an upstream). */
  cpuPercent: number
  /** The share of a core the gateway's resolver and auth-server processes used together (cold scenarios). */
  othersCpuPercent?: number
}

export interface ScenarioResult {
  name: LoadScenarioName
  title: string
  /** The gateway's runs in order, each between two baseline runs. */
  gatewayRuns: MeasuredRun[]
  /** The baseline's runs in order: one before each gateway run and one after the last. */
  baselineRuns: MeasuredRun[]
  /** The gateway's runs summed up: medians of rates and percentiles, sums of counts. */
  gateway: WrkResult
  /** The median of the gateway runs' CPU shares. */
  gatewayCpuPercent: number
  /** The baseline's runs summed up the same way. */
  baseline: WrkResult
  baselineCpuPercent: number
  /** Per gateway run: its requests/s over the mean of the baseline runs either side of it. */
  roundRatios: number[]
  /** The median of roundRatios: the gateway's requests/s as a share of the baseline's. */
  ratio: number
  /** What the gateway's runs did, from its /metrics. */
  gatewaySample: GatewaySample
  /** The gateway's heap after a full collection, after its last run. */
  heapAfterGcMb: number
  notes: string[]
  /** The viewers started before the runs, and how long that took (s). */
  viewers?: { count: number, startupS: number, keepAliveRequests: number, lost: Record<string, number> }
  /** What the gateway did during its measured runs, with the unmeasured second before each. */
  during?: RunWindow
  /** One run of each side at the viewers' players' pace. */
  paced?: PacedRuns
}

/** A stretch of a gateway's load: how long, how many requests, and what its /metrics counted meanwhile. */
export interface RunWindow {
  seconds: number
  requests: number
  sample: GatewaySample
}

export interface PacedRuns {
  /** The requests per second the viewers' players would make. */
  offeredRate: number
  /** How long each connection waited after each answer. */
  paceMs: number
  gateway: MeasuredRun
  baseline: MeasuredRun
  window: RunWindow
}

export function median (values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] as number : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Several runs of one server as one: the median of each rate and percentile, counts summed. */
export function summarizeRuns (runs: readonly MeasuredRun[]): { result: WrkResult, cpuPercent: number } {
  const of = (pick: (r: WrkResult) => number): number => median(runs.map((run) => pick(run.result)))
  const sum = (pick: (r: WrkResult) => number): number => runs.reduce((total, run) => total + pick(run.result), 0)
  return {
    result: {
      requests: sum((r) => r.requests),
      durationS: sum((r) => r.durationS),
      requestsPerSec: of((r) => r.requestsPerSec),
      p50Ms: of((r) => r.p50Ms),
      p75Ms: of((r) => r.p75Ms),
      p90Ms: of((r) => r.p90Ms),
      p99Ms: of((r) => r.p99Ms),
      maxMs: Math.max(...runs.map((run) => run.result.maxMs)),
      non2xx3xx: sum((r) => r.non2xx3xx),
      socketErrors: {
        connect: sum((r) => r.socketErrors.connect),
        read: sum((r) => r.socketErrors.read),
        write: sum((r) => r.socketErrors.write),
        timeout: sum((r) => r.socketErrors.timeout)
      },
      clientCpuPercent: of((r) => r.clientCpuPercent)
    },
    cpuPercent: median(runs.map((run) => run.cpuPercent))
  }
}

/** Each gateway run over the mean of the baseline runs just before and just after it. */
export function pairedRatios (gatewayRuns: readonly MeasuredRun[], baselineRuns: readonly MeasuredRun[]): number[] {
  return gatewayRuns.map((run, i) => {
    const around = [baselineRuns[i], baselineRuns[i + 1]].filter((b): b is MeasuredRun => b !== undefined)
    const baseline = around.reduce((total, b) => total + b.result.requestsPerSec, 0) / around.length
    return run.result.requestsPerSec / baseline
  })
}

export interface MicroResults {
  selection?: SelectionBenchResult
  geoMatch?: GeoMatchBenchResult
  signing?: SignBenchResult
  storeLookup?: StoreLookupBenchResult
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
  const gateway = median(s.gatewayRuns.map((run) => cpuPerRequestUs(run.cpuPercent, run.result)))
  const baseline = median(s.baselineRuns.map((run) => cpuPerRequestUs(run.cpuPercent, run.result)))
  return `${fmt(gateway, 1)} vs ${fmt(baseline, 1)} µs: ${fmt(baseline / gateway)} × the baseline's requests per CPU second`
}

const ratios = (s: ScenarioResult): string => s.roundRatios.length > 1 ? `, median of ${s.roundRatios.map((r) => fmt(r)).join(', ')}` : ''
const p99s = (s: ScenarioResult): string => s.gatewayRuns.length > 1 ? ` (median of ${s.gatewayRuns.map((run) => fmt(run.result.p99Ms)).join(', ')})` : ''

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
    valid(warm) ? `${fmt(warm.ratio)} × (${int(warm.gateway.requestsPerSec)} vs ${int(warm.baseline.requestsPerSec)} req/s${ratios(warm)}; CPU per request ${cpuRatio(warm)})${invalid(warmProblem)}` : undefined,
    valid(warm) && warmProblem === undefined && warm.ratio >= 0.7)
  add('warm p99', '≤ 5 ms at 64 connections',
    valid(warm) ? `${fmt(warm.gateway.p99Ms)} ms${p99s(warm)}; the baseline's own, same runs: ${fmt(warm.baseline.p99Ms)} ms${invalid(warmProblem)}` : undefined,
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

  // The realistic mixes: an answer other than a redirect is an error here, and fails the budget.
  for (const [name, least] of [['players', 0.5], ['analytics', 0.7]] as const) {
    const mix = find(name)
    const errors = mix === undefined ? 0 : errorCount(mix.gateway)
    add(`${name} throughput, no error`, `≥ ${fmt(least)} × baseline req/s, 0 errors at 64 connections`,
      valid(mix) ? `${fmt(mix.ratio)} × (${int(mix.gateway.requestsPerSec)} vs ${int(mix.baseline.requestsPerSec)} req/s${ratios(mix)}); p99 ${fmt(mix.gateway.p99Ms)} ms (the baseline's ${fmt(mix.baseline.p99Ms)} ms); ${int(errors)} errors` : undefined,
      valid(mix) && errors === 0 && mix.ratio >= least)
  }
  // Where players meet the gateway: the node's checks of every playlist and segment (at the
  // gateway, and through a real node), and the steering manifests.
  const hls = find('hls-segments')
  const hlsStarts = hls?.during === undefined ? 0 : (hls.during.sample.hlsStore?.read ?? 0) + (hls.during.sample.hlsStore?.admit ?? 0)
  const lost = (s: ScenarioResult): number => Object.values(s.viewers?.lost ?? {}).reduce((a, b) => a + b, 0)
  add('HLS checks, warm sessions', '≥ 0.90 × baseline req/s, p99 ≤ 2 × the baseline\'s, 0 errors, no store read or admission',
    valid(hls) ? `${fmt(hls.ratio)} × (${int(hls.gateway.requestsPerSec)} vs ${int(hls.baseline.requestsPerSec)} req/s${ratios(hls)}); p99 ${fmt(hls.gateway.p99Ms)} ms = ${fmt(hls.gateway.p99Ms / hls.baseline.p99Ms)} × the baseline's ${fmt(hls.baseline.p99Ms)} ms; ${int(errorCount(hls.gateway))} errors; ${int(hlsStarts)} store reads and admissions, ${int(hls.during?.sample.hlsStore?.renew ?? 0)} renewals in its runs, ${int(hls.viewers?.count ?? 0)} sessions${lost(hls) > 0 ? `, ${int(lost(hls))} more lost at the start` : ''}` : undefined,
    valid(hls) && hls.ratio >= 0.9 && hls.gateway.p99Ms <= 2 * hls.baseline.p99Ms && errorCount(hls.gateway) === 0 && hlsStarts === 0 && lost(hls) === 0)
  const steering = find('steering')
  add('steering manifests', '≥ 0.80 × baseline req/s (≥ 0.50 × at the least), 0 errors',
    valid(steering) ? `${fmt(steering.ratio)} × (${int(steering.gateway.requestsPerSec)} vs ${int(steering.baseline.requestsPerSec)} req/s${ratios(steering)}); p99 ${fmt(steering.gateway.p99Ms)} ms (the baseline's ${fmt(steering.baseline.p99Ms)} ms); ${int(errorCount(steering.gateway))} errors` : undefined,
    valid(steering) && steering.ratio >= 0.8 && errorCount(steering.gateway) === 0)
  // A node's checked HLS, without and with docs/nodes.md's cache of /verify answers: at a
  // player's pace, how often each viewer's checks reached the gateway.
  const verifyRate = (s: ScenarioResult): string => {
    const window = s.paced?.window
    if (window === undefined || s.viewers === undefined) return ''
    const calls = Object.values(window.sample.verify ?? {}).reduce((a, b) => a + b, 0)
    return `; at a player's pace ${fmt(calls / s.viewers.count / (window.seconds / 60), 1)} /verify calls per viewer per minute`
  }
  for (const [name, least] of [['node', 0.25], ['node-cached', 0.6]] as const) {
    const node = find(name)
    add(name === 'node' ? 'a node\'s checked HLS' : 'a node\'s checked HLS, /verify answers cached', `≥ ${fmt(least)} × the same nginx location without auth_request, p99 ≤ 5 × its p99, 0 errors`,
      valid(node) ? `${fmt(node.ratio)} × (${int(node.gateway.requestsPerSec)} vs ${int(node.baseline.requestsPerSec)} req/s${ratios(node)}); p99 ${fmt(node.gateway.p99Ms)} ms = ${fmt(node.gateway.p99Ms / node.baseline.p99Ms)} × the unchecked ${fmt(node.baseline.p99Ms)} ms; ${int(errorCount(node.gateway))} errors${lost(node) > 0 ? `; ${int(lost(node))} viewers lost at the start` : ''}${verifyRate(node)}` : undefined,
      valid(node) && node.ratio >= least && node.gateway.p99Ms <= 5 * node.baseline.p99Ms && errorCount(node.gateway) === 0 && lost(node) === 0)
  }

  // Signing and checking every service call, against the same cold load with none (issue's
  // budget: no more than 5 % of the cold throughput), each against the baseline runs beside it.
  const cold = find('cold')
  const unsigned = find('cold-unsigned')
  const coldProblem = cold === undefined ? undefined : runProblem(cold)
  const unsignedProblem = unsigned === undefined ? undefined : runProblem(unsigned)
  const pair = valid(cold) && valid(unsigned)
  // On two cores wrk shares its core with both services, and single runs' throughput moves by
  // ±15–35 %; the CPU the gateway and both services spend per request does not, and it is what
  // a deployment's capacity is made of: the budget is judged on requests per CPU second of the
  // three, and the throughput beside it is reported as measured.
  const systemSigned = pair ? systemCpuUs(cold) : Number.NaN
  const systemUnsigned = pair ? systemCpuUs(unsigned) : Number.NaN
  const capacityLoss = 1 - systemUnsigned / systemSigned
  const throughputLoss = pair ? 1 - cold.ratio / unsigned.ratio : 0
  const measured = pair && Number.isFinite(capacityLoss)
  add('signed service calls', '≤ 5 % of cold throughput',
    measured
      ? `${fmt(capacityLoss * 100, 1)} % fewer requests per CPU second of the gateway, the resolver and the auth-server (${fmt(systemSigned, 1)} µs per request signed, ${fmt(systemUnsigned, 1)} µs unsigned; the gateway's own ${fmt(cpuUs(cold), 1)} vs ${fmt(cpuUs(unsigned), 1)} µs). ` +
        `Throughput as measured: ${fmt(throughputLoss * 100, 1)} % (${fmt(cold.ratio)} × the baseline signed, ${int(cold.gateway.requestsPerSec)} req/s; ${fmt(unsigned.ratio)} × unsigned, ${int(unsigned.gateway.requestsPerSec)} req/s)${invalid(coldProblem ?? unsignedProblem)}`
      : undefined,
    measured && coldProblem === undefined && unsignedProblem === undefined && capacityLoss <= 0.05)
  // Both against the baseline runs beside them: the log's cost is the share of warm throughput
  // (relative to the baseline) it takes away.
  const logged = find('warm-decision-log')
  const loggedProblem = logged === undefined ? undefined : runProblem(logged)
  const withLog = valid(logged) && valid(warm)
  const cost = withLog ? 1 - logged.ratio / warm.ratio : 0
  add('decision log at sample 1.0', '< 10 % of warm throughput',
    withLog ? `${fmt(cost * 100, 1)} % (${fmt(logged.ratio)} × the baseline with the log, ${fmt(warm.ratio)} × without; CPU per request ${fmt(cpuUs(logged), 1)} vs ${fmt(cpuUs(warm), 1)} µs)${invalid(loggedProblem ?? warmProblem)}` : undefined,
    withLog && loggedProblem === undefined && warmProblem === undefined && cost < 0.1)
  return checks
}

/** The sessions' store calls and /verify calls in a window, per session per minute; undefined for a scenario without HLS sessions. */
export function sessionStore (window: RunWindow, sessions: number): string | undefined {
  const { hlsStore = {}, hlsStoreWrites, verify = {} } = window.sample
  const calls = Object.values(hlsStore).reduce((a, b) => a + b, 0)
  const verified = Object.values(verify).reduce((a, b) => a + b, 0)
  if (calls === 0 && verified === 0) return undefined
  const perMinute = (n: number): string => (n / sessions / (window.seconds / 60)).toFixed(2)
  return `store calls ${Object.entries(hlsStore).map(([op, n]) => `${op} ${n.toLocaleString('en-US')}`).join(', ') || 'none'}` +
    ` (${(calls / Math.max(1, verified) * 1000).toFixed(2)} per 1,000 checks; renewals ${perMinute(hlsStore.renew ?? 0)} per session per minute)` +
    (hlsStoreWrites === undefined ? '' : `, store writes ${Object.entries(hlsStoreWrites).map(([op, n]) => `${op} ${n.toLocaleString('en-US')}`).join(', ') || 'none'} (renewals' ${perMinute(hlsStoreWrites.renew ?? 0)} per session per minute)`) +
    `, /verify calls ${verified.toLocaleString('en-US')} (${perMinute(verified)} per viewer per minute)`
}

/** Answers that were not redirects, and sockets that failed. */
export function errorCount (run: WrkResult): number {
  const { connect, read, write, timeout } = run.socketErrors
  return run.non2xx3xx + connect + read + write + timeout
}

/** A scenario's gateway CPU time per request (µs), the median over its runs. */
function cpuUs (s: ScenarioResult): number {
  return median(s.gatewayRuns.map((run) => cpuPerRequestUs(run.cpuPercent, run.result)))
}

/**
 * CPU time per request of the gateway and its upstreams together (µs), the median over its
 * runs; NaN when the upstreams' share was not measured.
 */
function systemCpuUs (s: ScenarioResult): number {
  return median(s.gatewayRuns.map((run) => cpuPerRequestUs(run.cpuPercent + (run.othersCpuPercent ?? Number.NaN), run.result)))
}

/** The server's CPU time per answered request: steadier than requests/s on a busy machine. */
export function cpuPerRequestUs (cpuPercent: number, run: WrkResult): number {
  return cpuPercent / 100 / run.requestsPerSec * 1e6
}

function describeSample (sample: GatewaySample, heapAfterGcMb: number): string {
  const parts = Object.entries(sample.answers).map(([status, n]) => `${status}: ${int(n)}`)
  const geo = Object.entries(sample.geoSources).map(([source, n]) => `${source} ${int(n)}`)
  if (geo.length > 0) parts.push(`geo: ${geo.join(', ')}`)
  const hls = Object.entries(sample.hlsStore ?? {}).map(([op, n]) => `${op} ${int(n)}`)
  if (hls.length > 0) parts.push(`HLS session store calls: ${hls.join(', ')}`)
  const upstream = Object.entries(sample.upstreamCalls ?? {}).map(([name, n]) => `${name} ${int(n)}`)
  if (upstream.length > 0) parts.push(`upstream calls: ${upstream.join(', ')}`)
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
    `\`wrk -t1 -c64 -d${String(report.settings.durationS)}s --latency\` after a ${String(report.settings.warmupS)} s warm-up and, before each, ${String(report.settings.settleS ?? 0)} s of the same load unmeasured, ${String(report.settings.rounds)} gateway runs between ${Number(report.settings.rounds) + 1} baseline runs per scenario (5 for cold and cold-unsigned in a full run); git ${String(env.git)}`, '')

  if (report.scenarios.length > 0) {
    lines.push('## Load', '')
    lines.push('| scenario | server | req/s | each run, req/s | p50 ms | p99 ms | max ms | vs baseline | server CPU | CPU µs per request | wrk CPU | what the gateway answered |')
    lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |')
    const each = (runs: readonly MeasuredRun[]): string => runs.map((run) => int(run.result.requestsPerSec)).join(' / ')
    const cpuUs = (runs: readonly MeasuredRun[]): string => fmt(median(runs.map((run) => cpuPerRequestUs(run.cpuPercent, run.result))), 1)
    for (const s of report.scenarios) {
      const g = s.gateway
      const b = s.baseline
      lines.push(`| ${s.name} | gateway | ${int(g.requestsPerSec)} | ${each(s.gatewayRuns)} | ${fmt(g.p50Ms)} | ${fmt(g.p99Ms)} | ${fmt(g.maxMs, 1)} | ${fmt(s.ratio)} × | ${fmt(s.gatewayCpuPercent, 0)} % | ${cpuUs(s.gatewayRuns)} | ${fmt(g.clientCpuPercent, 0)} % | ${describeSample(s.gatewaySample, s.heapAfterGcMb)} |`)
      lines.push(`| ${s.name} | baseline | ${int(b.requestsPerSec)} | ${each(s.baselineRuns)} | ${fmt(b.p50Ms)} | ${fmt(b.p99Ms)} | ${fmt(b.maxMs, 1)} | 1.00 × | ${fmt(s.baselineCpuPercent, 0)} % | ${cpuUs(s.baselineRuns)} | ${fmt(b.clientCpuPercent, 0)} % | |`)
    }
    lines.push('', 'Each row is the median of its runs (max ms: the largest); "vs baseline" is the median, over the gateway\'s runs, of each run over the mean of the baseline runs just before and after it.')
    lines.push('')
    for (const s of report.scenarios) {
      lines.push(`- **${s.name}**: ${s.title}.${s.notes.length > 0 ? ' ' + s.notes.join(' ') : ''}`)
    }
    lines.push('')
  }
  const paced = report.scenarios.filter((s) => s.paced !== undefined)
  if (paced.length > 0) {
    lines.push('## At a player\'s pace', '')
    lines.push('One run of each side after the rounds, each of wrk\'s connections waiting between its requests so that together they ask about as often as the viewers\' players would (one request per viewer a second).', '')
    lines.push('| scenario | offered req/s | server | req/s | p50 ms | p99 ms | max ms | errors | server CPU | what the sessions cost |')
    lines.push('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |')
    for (const s of paced) {
      const { offeredRate, gateway, baseline, window } = s.paced as PacedRuns
      const row = (side: string, run: MeasuredRun, cost: string): string =>
        `| ${s.name} | ${int(offeredRate)} | ${side} | ${int(run.result.requestsPerSec)} | ${fmt(run.result.p50Ms)} | ${fmt(run.result.p99Ms)} | ${fmt(run.result.maxMs, 1)} | ${int(errorCount(run.result))} | ${fmt(run.cpuPercent, 0)} % | ${cost} |`
      lines.push(row('gateway', gateway, sessionStore(window, s.viewers?.count ?? 1) ?? ''))
      lines.push(row('baseline', baseline, ''))
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
    for (const size of micro.storeLookup?.sizes ?? []) {
      lines.push(`| embedded store, findOne by _id in a collection of ${int(size.documents)} documents | ${fmt(size.msPerLookup)} ms |`)
      lines.push(`| embedded store, insertOne into a collection of ${int(size.documents)} documents | ${fmt(size.msPerInsert, 1)} ms |`)
    }
    for (const error of micro.errors) lines.push(`| failed | ${error.split('\n')[0] ?? ''} |`)
    lines.push('')
  }

  lines.push('## Budgets (docs/design.md section 8)', '')
  lines.push('| budget | limit | measured | result |', '| --- | --- | --- | --- |')
  for (const b of report.budgets) lines.push(`| ${b.name} | ${b.limit} | ${b.measured} | ${b.status} |`)
  lines.push('', 'The burst budgets (one auth-server and one resolver call per burst) are checked by the tests, not here.', '')
  return lines.join('\n')
}

export function budgetLines (budgets: readonly BudgetCheck[]): string {
  return budgets.map((b) => `${b.status} ${b.name}: ${b.measured} (limit ${b.limit})`).join('\n')
}
