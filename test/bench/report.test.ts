// The bench report's pure helpers (bench/lib/report.ts): median, summing runs up, paired
// ratios, run validity, the budget checks, and the Markdown and plain-text renderings.

import t from 'tap'
import {
  budgetLines,
  checkBudgets,
  cpuPerRequestUs,
  markdownReport,
  median,
  pairedRatios,
  runProblem,
  summarizeRuns,
  type BenchReport,
  type BudgetCheck,
  type MeasuredRun,
  type MicroResults,
  type ScenarioResult
} from '../../bench/lib/report.js'
import type { WrkResult } from '../../bench/lib/wrk.js'
import type { LoadScenarioName } from '../../bench/lib/scenarios.js'

function wrk (over: Partial<WrkResult> = {}): WrkResult {
  return {
    requests: 50_000,
    durationS: 5,
    requestsPerSec: 10_000,
    p50Ms: 1,
    p75Ms: 1.5,
    p90Ms: 2,
    p99Ms: 3,
    maxMs: 10,
    non2xx3xx: 0,
    socketErrors: { connect: 0, read: 0, write: 0, timeout: 0 },
    clientCpuPercent: 40,
    ...over
  }
}

function run (requestsPerSec: number, cpuPercent = 100, over: Partial<WrkResult> = {}): MeasuredRun {
  return { result: wrk({ requestsPerSec, ...over }), cpuPercent }
}

/** A scenario with the summaries set directly, so each budget can be pushed either side of its limit. */
function scenario (name: LoadScenarioName, over: Partial<ScenarioResult> = {}): ScenarioResult {
  return {
    name,
    title: `${name} scenario`,
    gatewayRuns: [run(8000, 80)],
    baselineRuns: [run(10_000, 50), run(10_000, 50)],
    gateway: wrk({ requestsPerSec: 8000, p99Ms: 4 }),
    gatewayCpuPercent: 80,
    baseline: wrk({ requestsPerSec: 10_000, p99Ms: 2 }),
    baselineCpuPercent: 50,
    roundRatios: [0.8],
    ratio: 0.8,
    gatewaySample: { answers: {}, geoSources: {}, heapUsedMb: 30, rssMb: 90, eventLoopDelayMaxMs: 2, eventLoopDelayP99Ms: 1 },
    heapAfterGcMb: 20,
    notes: [],
    ...over
  }
}

function micro (over: Partial<MicroResults> = {}): MicroResults {
  return {
    selection: {
      baselineNsPerOp: 5,
      groups: [
        { nodes: 10, load: 'even', iterations: 1000, nsPerOp: 1500, usPerOp: 1.5 },
        { nodes: 100, load: 'even', iterations: 1000, nsPerOp: 12_000, usPerOp: 12 },
        { nodes: 100, load: 'skewed', iterations: 1000, nsPerOp: 18_000, usPerOp: 18 }
      ],
      snapshot: { nodes: 10_000, snapshotMb: 12, totalMb: 40, gcExposed: true, buildMs: 85 }
    },
    errors: [],
    ...over
  }
}

const byName = (checks: readonly BudgetCheck[], name: string): BudgetCheck => {
  const check = checks.find((c) => c.name === name)
  if (check === undefined) throw new Error(`no budget named ${name}`)
  return check
}

t.test('median is the middle value of an odd count and the mean of the middle two of an even count', async (t) => {
  t.equal(median([5]), 5)
  t.equal(median([3, 1, 2]), 2)
  t.equal(median([9, 1, 5, 7, 3]), 5)
  t.equal(median([4, 1, 3, 2]), 2.5)
  t.equal(median([10, 20]), 15)
  t.equal(median([1, 1, 100, 1000]), 50.5)
  t.equal(median([-3, 2, -1]), -1, 'sorted as numbers, not as strings')
  t.equal(median([10, 9, 100]), 10, 'sorted as numbers: "100" < "9" as strings')
})

t.test('median of nothing is NaN, and the input is left unsorted', async (t) => {
  t.ok(Number.isNaN(median([])))
  const values = [3, 1, 2]
  median(values)
  t.strictSame(values, [3, 1, 2])
})

t.test('summarizeRuns takes medians of rates and percentiles, the largest max and sums of counts', async (t) => {
  const runs: MeasuredRun[] = [
    { result: wrk({ requests: 100, durationS: 5, requestsPerSec: 20, p50Ms: 1, p75Ms: 4, p90Ms: 7, p99Ms: 30, maxMs: 50, non2xx3xx: 1, socketErrors: { connect: 1, read: 0, write: 0, timeout: 2 }, clientCpuPercent: 30 }), cpuPercent: 90 },
    { result: wrk({ requests: 300, durationS: 5, requestsPerSec: 60, p50Ms: 3, p75Ms: 5, p90Ms: 9, p99Ms: 10, maxMs: 80, non2xx3xx: 0, socketErrors: { connect: 0, read: 3, write: 0, timeout: 0 }, clientCpuPercent: 10 }), cpuPercent: 70 },
    { result: wrk({ requests: 200, durationS: 5.5, requestsPerSec: 40, p50Ms: 2, p75Ms: 6, p90Ms: 8, p99Ms: 20, maxMs: 60, non2xx3xx: 4, socketErrors: { connect: 0, read: 0, write: 5, timeout: 1 }, clientCpuPercent: 20 }), cpuPercent: 80 }
  ]
  t.strictSame(summarizeRuns(runs), {
    result: {
      requests: 600,
      durationS: 15.5,
      requestsPerSec: 40,
      p50Ms: 2,
      p75Ms: 5,
      p90Ms: 8,
      p99Ms: 20,
      maxMs: 80,
      non2xx3xx: 5,
      socketErrors: { connect: 1, read: 3, write: 5, timeout: 3 },
      clientCpuPercent: 20
    },
    cpuPercent: 80
  })
})

t.test('summarizeRuns of two runs takes the mean of each rate and percentile', async (t) => {
  const summary = summarizeRuns([run(1000, 60, { p99Ms: 2, maxMs: 5 }), run(3000, 90, { p99Ms: 4, maxMs: 4 })])
  t.equal(summary.result.requestsPerSec, 2000)
  t.equal(summary.result.p99Ms, 3)
  t.equal(summary.result.maxMs, 5, 'max is the largest, not a median')
  t.equal(summary.cpuPercent, 75)
  t.equal(summary.result.requests, 100_000)
})

t.test('each paired ratio is a gateway run over the mean of the baseline runs before and after it', async (t) => {
  const gateway = [run(800), run(1100), run(500)]
  const baseline = [run(1000), run(1000), run(1200), run(800)]
  // 800 / mean(1000, 1000), 1100 / mean(1000, 1200), 500 / mean(1200, 800)
  t.strictSame(pairedRatios(gateway, baseline), [0.8, 1, 0.5])
})

t.test('a paired ratio uses only the run before when there is no baseline run after it', async (t) => {
  t.strictSame(pairedRatios([run(900), run(600)], [run(1000), run(1200)]), [900 / 1100, 0.5],
    'the last gateway run has only the baseline run before it')
  t.strictSame(pairedRatios([], [run(1000)]), [])
})

t.test('a paired ratio is not the ratio of the overall means', async (t) => {
  // A drifting machine: the baseline speeds up; each gateway run is compared with its neighbours.
  const ratios = pairedRatios([run(1000), run(2000)], [run(1000), run(1000), run(3000)])
  t.strictSame(ratios, [1, 1])
  t.not(median(ratios), 1500 / (5000 / 3), 'differs from mean gateway over mean baseline')
})

t.test('cpuPerRequestUs is the server CPU time per answered request in microseconds', async (t) => {
  t.equal(cpuPerRequestUs(50, wrk({ requestsPerSec: 10_000 })), 50)
  t.equal(cpuPerRequestUs(80, wrk({ requestsPerSec: 8000 })), 100)
  t.equal(cpuPerRequestUs(100, wrk({ requestsPerSec: 1_000_000 })), 1)
})

t.test('runProblem accepts a run with up to one failed request in a thousand', async (t) => {
  t.equal(runProblem(scenario('warm')), undefined, 'no errors')
  t.equal(runProblem(scenario('warm', { gateway: wrk({ requests: 10_000, non2xx3xx: 10 }) })), undefined, 'exactly 0.1 %')
})

t.test('runProblem names a run with more failures than that, counting every kind of error', async (t) => {
  t.equal(runProblem(scenario('warm', { gateway: wrk({ requests: 10_000, non2xx3xx: 11 }) })), '11 of 10,000 requests failed')
  const mixed = wrk({ requests: 10_000, non2xx3xx: 5, socketErrors: { connect: 1, read: 2, write: 3, timeout: 4 } })
  t.equal(runProblem(scenario('warm', { gateway: mixed })), '15 of 10,000 requests failed', '5 + 1 + 2 + 3 + 4')
  t.equal(runProblem(scenario('warm', { gateway: wrk({ requests: 0 }) })), 'no requests completed')
})

t.test('with nothing measured every budget is skipped, in the order of docs/design.md section 8', async (t) => {
  const checks = checkBudgets([], undefined)
  t.strictSame(checks.map((c) => c.name), [
    'warm throughput',
    'warm p99',
    'selection, 100 nodes',
    'snapshot of 10,000 nodes',
    'snapshot of many nodes, in the running gateway',
    'resolver down p99',
    'players throughput, no error',
    'analytics throughput, no error',
    'HLS checks, warm sessions',
    'steering manifests',
    "a node's checked HLS",
    "a node's checked HLS, /verify answers cached",
    'signed service calls',
    'decision log at sample 1.0'
  ])
  for (const check of checks) {
    t.equal(check.status, 'SKIP', check.name)
    t.equal(check.measured, 'not measured', check.name)
  }
})

t.test('a warm run at 0.80 of the baseline with a 4 ms p99 passes both warm budgets', async (t) => {
  const checks = checkBudgets([scenario('warm')], undefined)
  t.strictSame(byName(checks, 'warm throughput'), {
    name: 'warm throughput',
    limit: '≥ 0.70 × baseline req/s',
    measured: "0.80 × (8,000 vs 10,000 req/s; CPU per request 100.0 vs 50.0 µs: 0.50 × the baseline's requests per CPU second)",
    status: 'PASS'
  })
  t.strictSame(byName(checks, 'warm p99'), {
    name: 'warm p99',
    limit: '≤ 5 ms at 64 connections',
    measured: "4.00 ms; the baseline's own, same runs: 2.00 ms",
    status: 'PASS'
  })
})

t.test('the warm budgets pass at their limits and fail just past them', async (t) => {
  const status = (over: Partial<ScenarioResult>, name: string): string => byName(checkBudgets([scenario('warm', over)], undefined), name).status
  t.equal(status({ ratio: 0.7 }, 'warm throughput'), 'PASS', 'ratio 0.70')
  t.equal(status({ ratio: 0.69 }, 'warm throughput'), 'FAIL', 'ratio 0.69')
  t.equal(status({ gateway: wrk({ p99Ms: 5 }) }, 'warm p99'), 'PASS', 'p99 5 ms')
  t.equal(status({ gateway: wrk({ p99Ms: 5.01 }) }, 'warm p99'), 'FAIL', 'p99 5.01 ms')
})

t.test('the measured text lists each round when there are several', async (t) => {
  const warm = scenario('warm', {
    gatewayRuns: [run(8000, 80, { p99Ms: 4 }), run(7000, 70, { p99Ms: 4.5 }), run(9000, 90, { p99Ms: 3.5 })],
    roundRatios: [0.8, 0.7, 0.9],
    ratio: 0.8
  })
  const checks = checkBudgets([warm], undefined)
  t.match(byName(checks, 'warm throughput').measured, '0.80 × (8,000 vs 10,000 req/s, median of 0.80, 0.70, 0.90; ')
  t.match(byName(checks, 'warm p99').measured, '4.00 ms (median of 4.00, 4.50, 3.50); ')
})

t.test('a warm run with too many failed requests fails its budgets whatever its numbers', async (t) => {
  const warm = scenario('warm', { gateway: wrk({ requestsPerSec: 8000, p99Ms: 1, requests: 1000, non2xx3xx: 2 }), ratio: 0.95 })
  const checks = checkBudgets([warm], undefined)
  for (const name of ['warm throughput', 'warm p99']) {
    t.equal(byName(checks, name).status, 'FAIL', name)
    t.match(byName(checks, name).measured, /\(invalid run: 2 of 1,000 requests failed\)$/, name)
  }
})

t.test('selection over 100 nodes is judged by the worse of its loads, strictly under 20 µs', async (t) => {
  t.strictSame(byName(checkBudgets([], micro()), 'selection, 100 nodes'), {
    name: 'selection, 100 nodes',
    limit: '< 20 µs',
    measured: '18.00 µs (worst of even and skewed load)',
    status: 'PASS'
  })
  const at20 = micro()
  at20.selection?.groups.push({ nodes: 100, load: 'skewed', iterations: 1000, nsPerOp: 20_000, usPerOp: 20 })
  t.equal(byName(checkBudgets([], at20), 'selection, 100 nodes').status, 'FAIL', '20 µs is not under 20 µs')
  const only10 = micro()
  if (only10.selection !== undefined) only10.selection.groups = only10.selection.groups.filter((g) => g.nodes === 10)
  t.equal(byName(checkBudgets([], only10), 'selection, 100 nodes').status, 'SKIP', 'no 100-node group measured')
})

t.test('the snapshot budget reads the micro result and is strictly under 50 MB', async (t) => {
  t.strictSame(byName(checkBudgets([], micro()), 'snapshot of 10,000 nodes'), {
    name: 'snapshot of 10,000 nodes',
    limit: '< 50 MB heap',
    measured: '40.00 MB (documents 28.00 + index 12.00)',
    status: 'PASS'
  })
  const heavy = micro()
  if (heavy.selection !== undefined) heavy.selection.snapshot = { nodes: 20_000, snapshotMb: 20, totalMb: 50, gcExposed: false, buildMs: 150 }
  t.strictSame(byName(checkBudgets([], heavy), 'snapshot of 20,000 nodes'), {
    name: 'snapshot of 20,000 nodes',
    limit: '< 50 MB heap',
    measured: '50.00 MB (documents 30.00 + index 20.00), no --expose-gc',
    status: 'FAIL'
  })
})

t.test('the live snapshot budget is the heap of many-nodes over that of warm', async (t) => {
  const name = 'snapshot of many nodes, in the running gateway'
  const pass = byName(checkBudgets([scenario('warm', { heapAfterGcMb: 40 }), scenario('many-nodes', { heapAfterGcMb: 80 })], undefined), name)
  t.equal(pass.status, 'PASS')
  t.equal(pass.measured, '40.00 MB (gateway heap after GC: many-nodes 80.00 − warm 40.00 MB)')
  const fail = byName(checkBudgets([scenario('warm', { heapAfterGcMb: 40 }), scenario('many-nodes', { heapAfterGcMb: 90 })], undefined), name)
  t.equal(fail.status, 'FAIL', '50 MB more is not under 50 MB')
  t.equal(byName(checkBudgets([scenario('many-nodes')], undefined), name).status, 'SKIP', 'without warm there is nothing to subtract')
})

t.test('resolver-down p99 may be up to twice the warm p99', async (t) => {
  const name = 'resolver down p99'
  const warm = scenario('warm', { gateway: wrk({ p99Ms: 4 }) })
  const at = byName(checkBudgets([warm, scenario('resolver-down', { gateway: wrk({ p99Ms: 8 }) })], undefined), name)
  t.strictSame(at, { name, limit: '≤ 2 × warm p99', measured: '8.00 ms = 2.00 × warm 4.00 ms', status: 'PASS' })
  const past = byName(checkBudgets([warm, scenario('resolver-down', { gateway: wrk({ p99Ms: 8.01 }) })], undefined), name)
  t.equal(past.status, 'FAIL')
  t.equal(byName(checkBudgets([scenario('resolver-down')], undefined), name).status, 'SKIP', 'without warm')
  const broken = scenario('resolver-down', { gateway: wrk({ p99Ms: 1, requests: 0 }) })
  const invalid = byName(checkBudgets([warm, broken], undefined), name)
  t.equal(invalid.status, 'FAIL', 'an invalid resolver-down run fails')
  t.match(invalid.measured, '(invalid run: no requests completed)')
})

t.test('budgetLines prints one line per budget with its status first', async (t) => {
  const lines = budgetLines([
    { name: 'warm p99', limit: '≤ 5 ms', measured: '4.00 ms', status: 'PASS' },
    { name: 'selection', limit: '< 20 µs', measured: 'not measured', status: 'SKIP' }
  ])
  t.equal(lines, 'PASS warm p99: 4.00 ms (limit ≤ 5 ms)\nSKIP selection: not measured (limit < 20 µs)')
  t.equal(budgetLines([]), '')
})

function sampleReport (): BenchReport {
  const gatewayRuns = [run(8000, 80, { p50Ms: 1.2, p99Ms: 4, maxMs: 12 }), run(9000, 90, { p50Ms: 1.1, p99Ms: 3.5, maxMs: 15.25 })]
  const baselineRuns = [run(10_000, 50, { p50Ms: 0.5, p99Ms: 2 }), run(10_000, 50, { p50Ms: 0.6, p99Ms: 2.2 }), run(12_000, 60, { p50Ms: 0.4, p99Ms: 1.8 })]
  const gateway = summarizeRuns(gatewayRuns)
  const baseline = summarizeRuns(baselineRuns)
  const roundRatios = pairedRatios(gatewayRuns, baselineRuns)
  const warm = scenario('warm', {
    title: 'one client over and over',
    gatewayRuns,
    baselineRuns,
    gateway: gateway.result,
    gatewayCpuPercent: gateway.cpuPercent,
    baseline: baseline.result,
    baselineCpuPercent: baseline.cpuPercent,
    roundRatios,
    ratio: median(roundRatios),
    gatewaySample: { answers: { 302: 170_000, 404: 3 }, geoSources: { cache: 169_990, resolver: 10 }, heapUsedMb: 31.46, rssMb: 95.04, eventLoopDelayMaxMs: 3.21, eventLoopDelayP99Ms: 1.04 },
    heapAfterGcMb: 22.5,
    notes: ['All requests from one address.']
  })
  const slow = scenario('resolver-down', { gateway: wrk({ p99Ms: 20 }) })
  const microResults: MicroResults = {
    ...micro(),
    geoMatch: { groups: 4, cidrRules: 2000, buildMs: 3, cases: [{ name: 'by network', expectRule: 'cidr', nsPerOp: 310.4 }], mixedNsPerOp: 280.6 },
    signing: { hs256UsPerOp: 4.321, es256UsPerOp: 45.6, randomUuidUsPerOp: 0.1, tokenLength: 231 },
    errors: ['geo-match bench: exited with 1\nstack trace line']
  }
  return {
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:05:00.000Z',
    elapsedS: 300,
    environment: { node: 'v20.20.2', cpus: 8, cpuModel: 'Test CPU', loadAverage: '0.10', loadAverageAtEnd: '0.20', pinning: 'no pinning', serverMode: 'compiled', git: 'abc1234' },
    settings: { durationS: 5, warmupS: 3, settleS: 1, rounds: 2 },
    scenarios: [warm],
    failures: [{ scenario: 'cold', error: 'token store failed\nat somewhere' }],
    micro: microResults,
    budgets: checkBudgets([warm, slow], microResults)
  }
}

t.test('the sample report used below is consistent: its ratios are paired and its budgets mixed', async (t) => {
  const report = sampleReport()
  const warm = report.scenarios[0] as ScenarioResult
  // 8000 / mean(10000, 10000), 9000 / mean(10000, 12000)
  t.strictSame(warm.roundRatios, [0.8, 9000 / 11_000])
  t.equal(warm.gateway.requestsPerSec, 8500)
  t.equal(warm.baseline.requestsPerSec, 10_000)
  t.strictSame(report.budgets.map((b) => b.status), ['PASS', 'PASS', 'PASS', 'PASS', 'SKIP', 'FAIL', 'SKIP', 'SKIP', 'SKIP', 'SKIP', 'SKIP', 'SKIP', 'SKIP', 'SKIP'])
})

t.test('the Markdown report has a gateway and a baseline row per scenario with the numbers in them', async (t) => {
  const md = markdownReport(sampleReport())
  const lines = md.split('\n')
  t.ok(lines.includes('## Load'), 'a Load section')
  t.ok(lines.includes(
    '| warm | gateway | 8,500 | 8,000 / 9,000 | 1.15 | 3.75 | 15.3 | 0.81 × | 85 % | 100.0 | 40 % | ' +
    '302: 170,000; 404: 3; geo: cache 169,990, resolver 10; event-loop delay p99 1.0 ms, max 3.2 ms; heap 31.5 MB (22.5 MB after GC), rss 95.0 MB |'
  ), 'the gateway row: medians, each run, the ratio, CPU and what the gateway answered')
  t.ok(lines.includes('| warm | baseline | 10,000 | 10,000 / 10,000 / 12,000 | 0.50 | 2.00 | 10.0 | 1.00 × | 50 % | 50.0 | 40 % | |'),
    'the baseline row')
  t.ok(lines.includes('- **warm**: one client over and over. All requests from one address.'), 'the scenario note')
  t.ok(lines.includes('- **cold failed**: token store failed'), 'a failed scenario, first line of its error only')
})

t.test('the Markdown report states the settings it ran with', async (t) => {
  const md = markdownReport(sampleReport())
  t.ok(md.startsWith('# geogate bench, 2026-01-01T00:00:00.000Z\n'))
  t.match(md, 'node v20.20.2, 8 × Test CPU; load average 0.10 at the start, 0.20 at the end; no pinning; servers compiled; ')
  t.match(md, '`wrk -t1 -c64 -d5s --latency` after a 3 s warm-up and, before each, 1 s of the same load unmeasured, 2 gateway runs between 3 baseline runs per scenario (5 for cold and cold-unsigned in a full run); git abc1234')
})

t.test('the Markdown report lists the microbenchmarks and their errors', async (t) => {
  const lines = markdownReport(sampleReport()).split('\n')
  t.ok(lines.includes('## Microbenchmarks'))
  t.ok(lines.includes('| selection over 10 nodes (even load) | 1.50 µs |'))
  t.ok(lines.includes('| selection over 100 nodes (even / skewed load) | 12.00 µs / 18.00 µs |'))
  t.notOk(lines.some((line) => line.startsWith('| selection over 1,000 nodes')), 'no row for a size not measured')
  t.ok(lines.includes('| snapshot of 10,000 nodes: heap with its documents (index alone), build time | 40.00 MB (12.00 MB), 85.00 ms |'))
  t.ok(lines.includes('| geo-group match, 2,000 CIDR rules: by network | 310 ns |'))
  t.ok(lines.includes('| geo-group match, mixed | 281 ns |'))
  t.ok(lines.includes('| signing a stream URL, HS256 (231-char JWT) | 4.32 µs |'))
  t.ok(lines.includes('| signing a stream URL, ES256 | 45.60 µs |'))
  t.ok(lines.includes('| failed | geo-match bench: exited with 1 |'), 'first line of the error only')
})

t.test('the Markdown report ends with the budget table, each with PASS, FAIL or SKIP', async (t) => {
  const report = sampleReport()
  const lines = markdownReport(report).split('\n')
  const start = lines.indexOf('## Budgets (docs/design.md section 8)')
  t.ok(start > 0, 'a Budgets section')
  t.strictSame(lines.slice(start + 2, start + 4), ['| budget | limit | measured | result |', '| --- | --- | --- | --- |'])
  const rows = lines.slice(start + 4, start + 4 + report.budgets.length)
  t.equal(rows.length, 14)
  t.equal(rows[1], "| warm p99 | ≤ 5 ms at 64 connections | 3.75 ms (median of 4.00, 3.50); the baseline's own, same runs: 2.00 ms | PASS |")
  t.equal(rows[4], '| snapshot of many nodes, in the running gateway | < 50 MB heap | not measured | SKIP |')
  t.equal(rows[5], '| resolver down p99 | ≤ 2 × warm p99 | 20.00 ms = 5.33 × warm 3.75 ms | FAIL |')
  for (const [i, row] of rows.entries()) {
    t.ok(row.endsWith(` | ${report.budgets[i]?.status ?? '?'} |`), `row ${i} ends with its status`)
  }
})

t.test('a report with no scenarios and no micro results has only the budgets', async (t) => {
  const md = markdownReport({
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
    elapsedS: 1,
    environment: {},
    settings: { durationS: 2, warmupS: 1, rounds: 1 },
    scenarios: [],
    failures: [],
    budgets: checkBudgets([], undefined)
  })
  t.notMatch(md, '## Load')
  t.notMatch(md, '## Microbenchmarks')
  t.match(md, 'load average undefined at the start, ? at the end', 'missing environment values are printed, not thrown on')
  t.match(md, '1 gateway runs between 2 baseline runs')
  t.match(md, 'before each, 0 s of the same load', 'a missing settle reads as 0')
  t.equal(md.split('\n').filter((line) => line.endsWith(' | SKIP |')).length, 14)
})

t.test('the mixes pass at their ratio with no error, and fail on one error', async (t) => {
  const name = 'players throughput, no error'
  t.equal(byName(checkBudgets([scenario('players', { ratio: 0.6 })], undefined), name).status, 'PASS')
  t.equal(byName(checkBudgets([scenario('players', { ratio: 0.4 })], undefined), name).status, 'FAIL', 'below 0.5')
  t.equal(byName(checkBudgets([scenario('players', { ratio: 0.6, gateway: wrk({ non2xx3xx: 1 }) })], undefined), name).status, 'FAIL', 'one error')
  t.equal(byName(checkBudgets([scenario('analytics', { ratio: 0.6 })], undefined), 'analytics throughput, no error').status, 'FAIL', 'below 0.7')
  t.equal(byName(checkBudgets([scenario('analytics', { ratio: 0.75 })], undefined), 'analytics throughput, no error').status, 'PASS')
})

t.test('the decision log budget compares its scenario with warm, both against the baseline', async (t) => {
  const logged = (ratio: number): ScenarioResult => ({ ...scenario('warm', { ratio }), name: 'warm-decision-log' })
  const check = (ratio: number): { status: string, measured: string } => byName(checkBudgets([scenario('warm', { ratio: 0.8 }), logged(ratio)], undefined), 'decision log at sample 1.0')
  t.equal(check(0.76).status, 'PASS', '5 % less')
  t.match(check(0.76).measured, /^5\.0 % \(0\.76 × the baseline with the log, 0\.80 × without; CPU per request /)
  t.equal(check(0.72).status, 'FAIL', '10 % less')
  t.equal(byName(checkBudgets([scenario('warm')], undefined), 'decision log at sample 1.0').status, 'SKIP', 'not measured without its scenario')
})

t.test('the signed-calls budget compares the CPU per request of the gateway and its upstreams, cold against cold-unsigned', async (t) => {
  const name = 'signed service calls'
  // Both runs at 8,000 req/s with the gateway at 80 %: the upstreams' share makes the difference.
  const withUpstreams = (name: LoadScenarioName, upstreamsPercent: number | undefined, ratio: number): ScenarioResult => ({
    ...scenario(name, { ratio }),
    gatewayRuns: [{ ...run(8000, 80), ...(upstreamsPercent !== undefined && { othersCpuPercent: upstreamsPercent }) }]
  })
  const pair = (signed: number, unsigned: number, ratios = [0.2, 0.2]): ScenarioResult[] =>
    [withUpstreams('cold', signed, ratios[0] as number), withUpstreams('cold-unsigned', unsigned, ratios[1] as number)]
  // 80 % + 40 % against 80 % + 37.6 %: 150 against 147 µs per request, 2 % fewer requests per CPU second.
  const close = byName(checkBudgets(pair(40, 37.6, [0.15, 0.2]), undefined), name)
  t.equal(close.status, 'PASS', '2 % more CPU, whatever the throughput did')
  t.match(close.measured, /^2\.0 % fewer requests per CPU second of the gateway, the resolver and the auth-server \(150\.0 µs per request signed, 147\.0 µs unsigned; .*Throughput as measured: 25\.0 % \(0\.15 × the baseline signed/)
  t.equal(byName(checkBudgets(pair(56, 40), undefined), name).status, 'FAIL', '12 % fewer')
  t.equal(byName(checkBudgets(pair(undefined as unknown as number, 40), undefined), name).status, 'SKIP', 'the upstreams\' CPU not measured')
  t.equal(byName(checkBudgets([scenario('cold')], undefined), name).status, 'SKIP', 'not measured without its pair')
})
