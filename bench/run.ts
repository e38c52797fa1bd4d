// `npm run bench`: geogate against a bare Fastify redirect, side by side in one run (docs/design.md
// section 8). The gateway and the baseline each run alone in a process pinned to core 0; wrk
// and everything the gateway depends on (store, resolver, auth-server) share core 1. Every
// scenario starts a fresh gateway and loads it and the baseline by turns with the same wrk
// command (baseline, gateway, baseline, gateway, …, baseline), after a warm-up run of each;
// each measured run follows a second of the same load on the same server, unmeasured. Warm
// and resolver-down take their turns within the same rounds, since a budget compares them.
// Writes bench/results/latest.json and latest.md (quick.json and quick.md for a --quick run,
// which leaves the last full run's results alone) and prints the table.
//
//   npm run bench                         # everything, about 11 minutes on 2 cores
//   npm run bench -- --quick              # a smoke test of the bench, under a minute
//   npm run bench -- --scenario warm,micro --duration 5 --strict

import { execFileSync } from 'node:child_process'
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { GeoMatchBenchResult } from './geo-match.bench.js'
import type { SelectionBenchResult } from './select-node.bench.js'
import type { SignBenchResult } from './sign.bench.js'
import type { StoreLookupBenchResult } from './store-lookup.bench.js'
import { buildForBench, root, tsxLauncher, type Launcher } from './lib/build.js'
import { canPin, startChild, stopAll, stopChildrenOnExit } from './lib/children.js'
import { withCpuShare } from './lib/cpu.js'
import { parseOptions, usage, type BenchOptions } from './lib/options.js'
import { prepareGateway } from './lib/prepare.js'
import { expectRedirect, sampleDelta, sampleGateway, type GatewaySample } from './lib/probe.js'
import { budgetLines, checkBudgets, markdownReport, median, pairedRatios, runProblem, summarizeRuns, type BenchReport, type MeasuredRun, type MicroResults, type PacedRuns, type RunWindow, type ScenarioResult, sessionStore } from './lib/report.js'
import { DECISION_LOG_FILE, loadScenarios, scenarioGroups, type LoadScenario, type LoadScenarioName } from './lib/scenarios.js'
import { startBenchNode, type BenchNode } from './lib/node.js'
import type { StartedViewers } from './lib/sessions.js'
import { runWarmUpPass } from './lib/warm-up-pass.js'
import { STORE_TOKENS } from './servers/bench-data.js'
import { LOAD_CORE, SERVER_CORE, clearSessions, heapAfterGc, startBaseline, startGateway, startNodesStore, startSystem, type RunningServer, type SystemInfo } from './lib/system.js'
import { requireWrk, runWrk, WrkMissingError, type WrkResult } from './lib/wrk.js'

const started = Date.now()
/** Rounds of the cold pair in a full run (see runScenarioGroup). */
const COLD_PAIR_ROUNDS = 5

function log (line: string): void {
  const s = ((Date.now() - started) / 1000).toFixed(0).padStart(4)
  process.stderr.write(`[${s}s] ${line}\n`)
}

function fmtRun (r: WrkResult): string {
  return `${Math.round(r.requestsPerSec).toLocaleString('en-US')} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms` +
    (r.non2xx3xx > 0 ? `, ${r.non2xx3xx} non-2xx/3xx` : '')
}

async function runProgram<T> (launcher: Launcher, name: string, file: string, nodeFlags: string[], timeoutMs: number): Promise<T> {
  const child = startChild(name, process.execPath, launcher.args(file, nodeFlags), { core: SERVER_CORE })
  const timer = setTimeout(() => { void child.stop(1000) }, timeoutMs)
  const code = await child.exited
  clearTimeout(timer)
  if (code !== 0) throw new Error(`${name} exited with ${code}:\n${child.output()}`)
  const json = child.stdout().slice(child.stdout().indexOf('{'))
  return JSON.parse(json) as T
}

async function runMicro (launcher: Launcher): Promise<MicroResults> {
  const micro: MicroResults = { errors: [] }
  const attempt = async (what: string, run: () => Promise<void>): Promise<void> => {
    log(`micro: ${what}`)
    try {
      await run()
    } catch (err) {
      micro.errors.push(`${what}: ${(err as Error).message}`)
      log(`micro: ${what} failed: ${(err as Error).message}`)
    }
  }
  await attempt('node selection and snapshot heap', async () => {
    micro.selection = await runProgram<SelectionBenchResult>(launcher, 'select-node bench', 'bench/select-node.bench.ts', ['--expose-gc'], 180_000)
  })
  await attempt('geo-group match', async () => {
    micro.geoMatch = await runProgram<GeoMatchBenchResult>(launcher, 'geo-match bench', 'bench/geo-match.bench.ts', [], 120_000)
  })
  await attempt('signing', async () => {
    micro.signing = await runProgram<SignBenchResult>(launcher, 'sign bench', 'bench/sign.bench.ts', [], 120_000)
  })
  return micro
}

/** Last, after the load: filling a store with 50,000 documents keeps a core busy for minutes. */
async function runStoreLookup (launcher: Launcher, micro: MicroResults, quick: boolean): Promise<void> {
  // A quick run is a smoke test of the bench: the smallest size only, in seconds.
  if (quick) process.env.BENCH_STORE_LOOKUP_SIZES = '1000'
  log(`micro: embedded store lookups at ${quick ? '1,000' : '1,000, 10,000 and 50,000'} documents`)
  try {
    micro.storeLookup = await runProgram<StoreLookupBenchResult>(launcher, 'store lookup bench', 'bench/store-lookup.bench.ts', [], 1_200_000)
  } catch (err) {
    micro.errors.push(`embedded store lookups: ${(err as Error).message}`)
  }
}

interface Servers {
  launcher: Launcher
  system: SystemInfo
  baseline: RunningServer
  options: BenchOptions
}

/** One scenario's gateway and what its runs (and its baseline's) measured so far. */
interface ScenarioState {
  scenario: LoadScenario
  gateway?: RunningServer
  /** The node in front of the gateway, for a scenario through one. */
  node?: BenchNode
  host?: string
  /** Where each side's load goes, and the processes whose CPU is that side's. */
  targets?: { gateway: string, baseline: string, gatewayPids: number[], baselinePids: number[] }
  viewers?: StartedViewers
  /** The next new client number for the scenario's script. */
  firstClient: number
  gatewayRuns: MeasuredRun[]
  baselineRuns: MeasuredRun[]
  /** What the gateway did during its measured runs (and the unmeasured second before each). */
  during?: RunWindow
  paced?: PacedRuns
  before?: GatewaySample
  /** The worst event-loop delays its gateway's measured runs saw (p99 and max, ms). */
  loopDelay: { p99Ms: number, maxMs: number }
}

/** wrk's connections in every run. */
const CONNECTIONS = 64

/**
 * Runs a group of scenarios by turns: each round loads, for every scenario, the baseline and
 * then that scenario's gateway, and a last baseline run per scenario closes the rounds. Each
 * gateway run is compared with its scenario's baseline runs just before and after it, so a
 * machine whose speed drifts drifts both sides, and the median over the rounds shrugs off a
 * run that other work on the machine slowed down. Scenarios in one group are measured over
 * the same minutes, which makes budgets that compare them (resolver down against warm) fair.
 * A scenario with a player's pace then runs each side once more at that pace.
 * All servers stay up throughout; in a group, the gateways not under load are stopped
 * (SIGSTOP) for each run and go on where they were at their next turn.
 */
async function runScenarioGroup (group: readonly LoadScenario[], servers: Servers): Promise<ScenarioResult[]> {
  const { system, options, launcher, baseline: baselineServer } = servers
  const load = (state: ScenarioState, target: string, durationS: number, firstClient: number, paceMs?: number): Promise<WrkResult> => {
    const { scenario, viewers } = state
    return runWrk({
      url: target + scenario.path,
      durationS,
      connections: CONNECTIONS,
      headers: scenario.headers,
      core: LOAD_CORE,
      ...(scenario.script !== undefined && { script: scenario.script }),
      ...(scenario.scriptArgs !== undefined && { scriptArgs: scenario.scriptArgs({ firstClient, tokens: system.tokens, ...(viewers !== undefined && { viewers }), ...(paceMs !== undefined && { paceMs }) }) })
    })
  }
  // The signed-calls budget compares two cold scenarios whose single runs move by ±15–35 %: a
  // full run gives them five rounds each, whatever --rounds says, so that its median is steadier.
  const rounds = !options.quick && group.some((s) => s.name === 'cold-unsigned') ? Math.max(options.rounds, COLD_PAIR_ROUNDS) : options.rounds
  const states: ScenarioState[] = group.map((scenario) => ({ scenario, firstClient: 0, gatewayRuns: [], baselineRuns: [], loopDelay: { p99Ms: 0, maxMs: 0 } }))

  // Only the server under load runs: the group's other gateways are stopped (SIGSTOP) meanwhile,
  // as they would be on machines of their own. Idle, each still woke on core 0 for its timers
  // and its store polls (the baseline had 97 % of the core beside them, 99 % without). A
  // gateway's pause between its runs is as a quiet spell in production: the node flags it runs
  // with (src/node-flags.ts) keep such a spell from costing its next run's p99.
  const signal = (server: RunningServer, name: 'SIGSTOP' | 'SIGCONT'): void => {
    try {
      process.kill(server.child.pid, name)
    } catch {
      // Gone already: its run reports that.
    }
  }
  const runOnly = (active: RunningServer | undefined): void => {
    for (const { gateway } of states) if (gateway !== undefined && gateway !== active) signal(gateway, 'SIGSTOP')
    if (active !== undefined) signal(active, 'SIGCONT')
  }
  const resumeAll = (): void => {
    for (const { gateway } of states) if (gateway !== undefined) signal(gateway, 'SIGCONT')
  }
  const targetsOf = (state: ScenarioState): NonNullable<ScenarioState['targets']> => {
    if (state.targets === undefined) throw new Error(`${state.scenario.name}: not started`)
    return state.targets
  }

  const baselineRun = async (state: ScenarioState, paceMs?: number): Promise<MeasuredRun> => {
    const { scenario } = state
    const { baseline, baselinePids } = targetsOf(state)
    if (group.length > 1) runOnly(undefined)
    if (options.settleS > 0) await load(state, baseline, options.settleS, 0, paceMs)
    const run = await withCpuShare(baselinePids, () => load(state, baseline, options.durationS, 0, paceMs))
    log(`${scenario.name}: baseline ${fmtRun(run.result)}, server CPU ${run.cpuPercent}%`)
    return run
  }
  const gatewayRun = async (state: ScenarioState, gateway: RunningServer, paceMs?: number): Promise<{ run: MeasuredRun, window: RunWindow }> => {
    const { scenario } = state
    const { gateway: target, gatewayPids } = targetsOf(state)
    if (group.length > 1) {
      runOnly(gateway)
      // The delay of its time stopped is not the gateway's: its /metrics read starts a new window.
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const before = await sampleGateway(gateway.url)
    const from = Date.now()
    let settled = 0
    // New clients stay new: each run starts past every one an earlier run used.
    if (options.settleS > 0) {
      settled = (await load(state, target, options.settleS, state.firstClient, paceMs)).requests
      state.firstClient += settled + 1000
    }
    // The cold scenarios' upstreams work for this gateway alone while it is loaded.
    const upstreams = isCold(scenario.name) ? system.upstreamPids : []
    const run = await withCpuShare(gatewayPids, () => load(state, target, options.durationS, state.firstClient, paceMs), upstreams)
    state.firstClient += run.result.requests + 1000
    log(`${scenario.name}: gateway ${fmtRun(run.result)}, server CPU ${run.cpuPercent}%` + (run.othersCpuPercent === undefined ? '' : `, resolver and auth-server CPU ${run.othersCpuPercent}%`))
    const after = await sampleGateway(gateway.url)
    state.loopDelay = { p99Ms: Math.max(state.loopDelay.p99Ms, after.eventLoopDelayP99Ms), maxMs: Math.max(state.loopDelay.maxMs, after.eventLoopDelayMaxMs) }
    return { run, window: { seconds: (Date.now() - from) / 1000, requests: settled + run.result.requests, sample: sampleDelta(before, after) } }
  }

  await expectRedirect('the baseline', `${baselineServer.url}/flv`, {})
  const results: ScenarioResult[] = []
  try {
    for (const state of states) {
      const { scenario } = state
      log(`${scenario.name}: starting the gateway${scenario.resolverDown ? ' (RESOLVER_URL at a closed port)' : ''}`)
      const gateway = await startGateway(launcher, system, { database: scenario.database, resolverDown: scenario.resolverDown, tokenStore: scenario.tokenStore, unsignedCalls: scenario.unsignedCalls === true, name: `gateway (${scenario.name})`, ...(scenario.gatewayConfig !== undefined && { config: scenario.gatewayConfig }) })
      state.gateway = gateway
      if (scenario.throughNode !== undefined) {
        log(`${scenario.name}: starting nginx with the README's node config${scenario.throughNode === 'cached' ? ' and docs/nodes.md\'s cache of /verify answers' : ''} in front of the gateway`)
        state.node = await startBenchNode(new URL(gateway.url).host, scenario.throughNode === 'cached')
        const pids = [state.node.child.pid, gateway.child.pid]
        state.targets = { gateway: state.node.checkedUrl, baseline: state.node.uncheckedUrl, gatewayPids: pids, baselinePids: pids }
      } else {
        state.targets = { gateway: gateway.url, baseline: baselineServer.url, gatewayPids: [gateway.child.pid], baselinePids: [baselineServer.child.pid] }
      }
      state.host = await prepareGateway(scenario, system, gateway.url, log)
      if (scenario.viewers !== undefined) {
        log(`${scenario.name}: starting ${options.viewers.toLocaleString('en-US')} viewers`)
        state.viewers = await scenario.viewers({ name: scenario.name, gatewayUrl: gateway.url, ...(state.node !== undefined && { nodeUrl: state.node.checkedUrl }), count: options.viewers, log })
        const { count, startupMs } = state.viewers
        log(`${scenario.name}: ${count.toLocaleString('en-US')} viewers started in ${(startupMs / 1000).toFixed(1)} s`)
      }
      if (scenario.warmUpPass !== undefined) {
        const requests = scenario.warmUpPass()
        log(`${scenario.name}: warm-up pass, ${requests.length.toLocaleString('en-US')} requests`)
        const from = Date.now()
        await runWarmUpPass(gateway.url, requests)
        log(`${scenario.name}: warm-up pass done in ${((Date.now() - from) / 1000).toFixed(1)} s`)
      }
      if (options.warmupS > 0) {
        log(`${scenario.name}: baseline warm-up ${options.warmupS} s`)
        await load(state, state.targets.baseline, options.warmupS, 0)
        log(`${scenario.name}: gateway warm-up ${options.warmupS} s`)
        const warmup = await load(state, state.targets.gateway, options.warmupS, 0)
        state.firstClient = warmup.requests + 1000
        log(`${scenario.name}: gateway warm-up ${fmtRun(warmup)}`)
      }
      state.before = await sampleGateway(gateway.url)
    }
    const measure = async (state: ScenarioState): Promise<void> => {
      log(`${state.scenario.name}: gateway ${options.durationS} s (${state.gatewayRuns.length + 1} of ${rounds})`)
      const { run, window } = await gatewayRun(state, state.gateway as RunningServer)
      state.gatewayRuns.push(run)
      state.during = addWindow(state.during, window)
    }
    const measureBaseline = async (state: ScenarioState): Promise<void> => {
      log(`${state.scenario.name}: baseline ${options.durationS} s (${state.baselineRuns.length + 1} of ${rounds + 1})`)
      state.baselineRuns.push(await baselineRun(state))
    }
    for (let round = 1; round <= rounds; round++) {
      for (const state of states) {
        await measureBaseline(state)
        await measure(state)
      }
    }
    for (const state of states) await measureBaseline(state)
    for (const state of states) {
      const rate = state.viewers === undefined ? undefined : state.scenario.pacedRate?.(state.viewers.count)
      if (rate === undefined) continue
      // Each connection waits paceMs after each answer: together they ask about rate times a second.
      const paceMs = Math.max(1, Math.round(CONNECTIONS * 1000 / rate))
      log(`${state.scenario.name}: at a player's pace, ${rate.toLocaleString('en-US')} requests/s offered (${CONNECTIONS} connections, ${paceMs} ms between a connection's requests)`)
      const baseline = await baselineRun(state, paceMs)
      const { run, window } = await gatewayRun(state, state.gateway as RunningServer, paceMs)
      state.paced = { offeredRate: rate, paceMs, gateway: run, baseline, window }
    }
    resumeAll()
    for (const state of states) {
      const gateway = state.gateway as RunningServer
      const sample = sampleDelta(state.before as GatewaySample, await sampleGateway(gateway.url))
      sample.eventLoopDelayP99Ms = state.loopDelay.p99Ms
      sample.eventLoopDelayMaxMs = state.loopDelay.maxMs
      const result = scenarioResult(state, system, sample, await heapAfterGc(gateway.child))
      if (state.scenario.gatewayConfig?.decisionLog === DECISION_LOG_FILE) {
        const bytes = statSync(DECISION_LOG_FILE, { throwIfNoEntry: false })?.size ?? 0
        result.notes.push(`Its decision log grew to ${(bytes / 1024 / 1024).toFixed(1)} MB: a line for every answer of its warm-up and runs.`)
      }
      results.push(result)
    }
  } finally {
    resumeAll()
    await Promise.all(states.map(async (state) => {
      await state.node?.stop()
      await state.gateway?.child.stop()
      if (state.viewers !== undefined) rmSync(state.viewers.file, { force: true })
    }))
    if (states.some((state) => state.viewers !== undefined)) await clearSessions(system.store)
    rmSync(DECISION_LOG_FILE, { force: true })
  }
  return results
}

/** Two windows of a gateway's runs as one. */
function addWindow (sum: RunWindow | undefined, window: RunWindow): RunWindow {
  if (sum === undefined) return window
  const add = (a: Record<string, number> | undefined, b: Record<string, number> | undefined): Record<string, number> => {
    const out: Record<string, number> = { ...a }
    for (const [key, value] of Object.entries(b ?? {})) out[key] = (out[key] ?? 0) + value
    return out
  }
  const { sample } = window
  return {
    seconds: sum.seconds + window.seconds,
    requests: sum.requests + window.requests,
    sample: {
      ...sample,
      answers: add(sum.sample.answers, sample.answers),
      geoSources: add(sum.sample.geoSources, sample.geoSources),
      hlsStore: add(sum.sample.hlsStore, sample.hlsStore),
      ...(sample.hlsStoreWrites !== undefined && { hlsStoreWrites: add(sum.sample.hlsStoreWrites, sample.hlsStoreWrites) }),
      verify: add(sum.sample.verify, sample.verify),
      upstreamCalls: add(sum.sample.upstreamCalls, sample.upstreamCalls)
    }
  }
}

/** A new token and a new client on every request: the gateway waits for its upstreams. */
function isCold (name: LoadScenarioName): boolean {
  return name === 'cold' || name === 'cold-unsigned' || name === 'cold-store'
}

function scenarioResult (state: ScenarioState, system: SystemInfo, sample: GatewaySample, heapAfterGcMb: number): ScenarioResult {
  const { scenario, gatewayRuns, baselineRuns } = state
  const gatewaySummary = summarizeRuns(gatewayRuns)
  const baselineSummary = summarizeRuns(baselineRuns)
  const roundRatios = pairedRatios(gatewayRuns, baselineRuns)
  const notes: string[] = [`The probe was sent to ${state.host ?? '?'}.`]
  const baselineRates = baselineRuns.map((run) => run.result.requestsPerSec)
  const spread = (Math.max(...baselineRates) - Math.min(...baselineRates)) / baselineSummary.result.requestsPerSec
  if (spread > 0.1) notes.push(`The baseline's runs differ by up to ${Math.round(spread * 100)} %: other work on the machine.`)
  // A closed loop keeps one side busy: when neither the server nor wrk is, a third party had the
  // core (the cold gateway also waits for its upstreams, so it is left out).
  const runs = [
    ...(isCold(scenario.name) ? [] : gatewayRuns.map((run, i) => ({ name: `gateway run ${i + 1}`, run }))),
    ...baselineRuns.map((run, i) => ({ name: `baseline run ${i + 1}`, run }))
  ]
  const starved = runs.filter(({ run }) => run.cpuPercent < 80 && run.result.clientCpuPercent < 80).map(({ name }) => name)
  if (starved.length > 0) notes.push(`Neither server nor wrk kept a core busy in: ${starved.join(', ')}; other processes took CPU time.`)
  if (isCold(scenario.name)) {
    const tokens = scenario.name === 'cold-store' ? STORE_TOKENS : system.tokens
    if (state.firstClient > tokens) {
      notes.push(`Only ${tokens.toLocaleString('en-US')} tokens exist: about ${(state.firstClient - tokens).toLocaleString('en-US')} requests reused a token (still a new IP).`)
    }
    notes.push('wrk shares core 1 with the resolver, the auth-server and the store, so this measures the system on two cores, not the gateway alone.')
  }
  if (state.viewers !== undefined) notes.push(viewersNote(state))
  const result: ScenarioResult = {
    name: scenario.name,
    title: scenario.title({ extraNodes: system.nodesStore?.extraNodes ?? 0, tokens: system.tokens }),
    gatewayRuns,
    baselineRuns,
    gateway: gatewaySummary.result,
    gatewayCpuPercent: gatewaySummary.cpuPercent,
    baseline: baselineSummary.result,
    baselineCpuPercent: baselineSummary.cpuPercent,
    roundRatios,
    ratio: median(roundRatios),
    gatewaySample: sample,
    heapAfterGcMb,
    notes,
    ...(state.viewers !== undefined && { viewers: { count: state.viewers.count, startupS: state.viewers.startupMs / 1000, keepAliveRequests: state.viewers.keepAliveRequests, lost: state.viewers.lost } }),
    ...(state.during !== undefined && { during: state.during }),
    ...(state.paced !== undefined && { paced: state.paced })
  }
  const problem = runProblem(result)
  if (problem !== undefined) result.notes.push(`${problem[0]?.toUpperCase() ?? ''}${problem.slice(1)}: no budget uses this run.`)
  return result
}

/** How the viewers started, and what their sessions cost the store while the gateway was loaded. */
function viewersNote (state: ScenarioState): string {
  const { count, startupMs, keepAliveRequests, lost } = state.viewers as StartedViewers
  const lostCount = Object.values(lost).reduce((a, b) => a + b, 0)
  const parts = [`${count.toLocaleString('en-US')} viewers started in ${(startupMs / 1000).toFixed(1)} s (${((count + lostCount) / (startupMs / 1000)).toFixed(1)} starts a second` +
    (keepAliveRequests > 0 ? `, with ${keepAliveRequests.toLocaleString('en-US')} requests of the viewers already started meanwhile` : '') + ').']
  if (lostCount > 0) parts.push(`${lostCount.toLocaleString('en-US')} more were lost, refused at their start or later while the others started (${Object.entries(lost).map(([status, n]) => `${n.toLocaleString('en-US')} × ${status}`).join(', ')}), and are not in the load.`)
  const windows: Array<[string, RunWindow | undefined]> = [['its measured runs', state.during], ['its run at a player\'s pace', state.paced?.window]]
  for (const [what, window] of windows) {
    if (window === undefined) continue
    const store = sessionStore(window, count)
    if (store === undefined) continue
    parts.push(`During ${what} (${window.seconds.toFixed(0)} s with the unmeasured second, ${window.requests.toLocaleString('en-US')} requests): ${store}.`)
  }
  return parts.join(' ')
}

function gitDescription (): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: root, encoding: 'utf8' }).trim() !== ''
    return `${head}${dirty ? ' (src modified)' : ''}`
  } catch {
    return 'unknown'
  }
}

/** Writes name.json and name.md; returns their paths without the extension. */
function writeResults (report: BenchReport, markdown: string, name: string): string {
  const dir = path.join(root, 'bench', 'results')
  mkdirSync(dir, { recursive: true })
  const write = (name: string, text: string): void => {
    const file = path.join(dir, name)
    writeFileSync(`${file}.tmp`, text)
    renameSync(`${file}.tmp`, file)
  }
  write(`${name}.json`, JSON.stringify(report, null, 2) + '\n')
  write(`${name}.md`, markdown)
  return path.join(dir, name)
}

async function main (): Promise<number> {
  const options = parseOptions(process.argv.slice(2))
  if (options.help) {
    process.stdout.write(usage)
    return 0
  }
  stopChildrenOnExit(log)
  const scenarios = loadScenarios.filter((s) => options.scenarios.includes(s.name))
  if (scenarios.length > 0) requireWrk()
  const startedAt = new Date().toISOString()
  const loadAverage = os.loadavg().map((n) => n.toFixed(2)).join(' ')
  if (os.loadavg()[0] as number > 0.5) log(`note: the load average is ${loadAverage}; other work on this machine skews the numbers`)

  let launcher: Launcher
  if (options.tsx) {
    launcher = tsxLauncher()
  } else {
    log('compiling src and the bench servers (tsc)')
    launcher = buildForBench()
  }

  const report: BenchReport = {
    startedAt,
    finishedAt: '',
    elapsedS: 0,
    environment: {
      node: process.version,
      cpus: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      loadAverage,
      pinning: canPin() ? `servers pinned to core ${SERVER_CORE}, wrk and dependencies to core ${LOAD_CORE}` : 'not pinned (no taskset, or one core)',
      serverMode: launcher.mode === 'compiled' ? 'compiled by tsc, run by plain node' : 'run from the sources with tsx',
      git: gitDescription()
    },
    settings: {
      durationS: options.durationS,
      rounds: options.rounds,
      warmupS: options.warmupS,
      settleS: options.settleS,
      quick: options.quick,
      scenarios: options.scenarios.join(','),
      tokens: options.tokens,
      extraNodes: options.extraNodes,
      viewers: options.viewers,
      connections: CONNECTIONS
    },
    scenarios: [],
    failures: [],
    budgets: []
  }

  try {
    if (options.scenarios.includes('micro')) report.micro = await runMicro(launcher)

    if (scenarios.length > 0) {
      // Only what the chosen scenarios use: many tokens take a while to insert.
      const tokens = scenarios.some((s) => s.name === 'cold' || s.name === 'cold-unsigned') ? options.tokens : 1000
      log(`starting the store (demo data), the resolver and the auth-server (${tokens.toLocaleString('en-US')} bench tokens)`)
      const storeTokens = scenarios.some((s) => ['cold-store', 'players', 'analytics'].includes(s.name)) ? STORE_TOKENS : 0
      log(`the embedded store gets ${storeTokens.toLocaleString('en-US')} bench tokens`)
      const system = await startSystem(launcher, { tokens, storeTokens, extraNodes: 0 })
      log(`store ready (seeded in ${(system.store.seededMs / 1000).toFixed(1)} s), resolver and auth-server ready`)
      const baseline = await startBaseline(launcher)

      for (const group of scenarioGroups(scenarios)) {
        const names = group.map((s) => s.name).join(' and ')
        try {
          // The store with many nodes, only now: its heartbeats would disturb the load core
          // under the scenarios before (see startSystem).
          if (group.some((s) => s.database === 'manyNodes') && system.nodesStore === undefined) {
            log(`starting a second store with ${options.extraNodes.toLocaleString('en-US')} extra nodes`)
            system.nodesStore = await startNodesStore(launcher, options.extraNodes)
            log(`second store ready (seeded in ${(system.nodesStore.seededMs / 1000).toFixed(1)} s)`)
          }
          report.scenarios.push(...await runScenarioGroup(group, { launcher, system, baseline, options }))
        } catch (err) {
          if (err instanceof WrkMissingError) throw err
          log(`${names} failed: ${(err as Error).message}`)
          for (const scenario of group) report.failures.push({ scenario: scenario.name, error: (err as Error).message })
        }
      }
      const order = (name: string): number => loadScenarios.findIndex((s) => s.name === name)
      report.scenarios.sort((a, b) => order(a.name) - order(b.name))
    }
    if (report.micro !== undefined) await runStoreLookup(launcher, report.micro, options.quick)
  } finally {
    log('stopping the bench processes')
    await stopAll()
  }

  report.budgets = checkBudgets(report.scenarios, report.micro)
  report.environment.loadAverageAtEnd = os.loadavg().map((n) => n.toFixed(2)).join(' ')
  report.finishedAt = new Date().toISOString()
  report.elapsedS = Math.round((Date.now() - started) / 1000)
  const markdown = markdownReport(report)
  const written = path.relative(process.cwd(), writeResults(report, markdown, options.quick ? 'quick' : 'latest'))
  process.stdout.write('\n' + markdown + '\n' + budgetLines(report.budgets) + '\n')
  log(`results in ${written}.json and ${written}.md (${report.elapsedS} s)`)

  const failed = report.budgets.some((b) => b.status === 'FAIL')
  if (report.failures.length > 0 || (report.micro?.errors.length ?? 0) > 0) return 1
  return options.strict && failed ? 1 : 0
}

main().then((code) => { process.exitCode = code }, async (err: unknown) => {
  process.stderr.write(`bench: ${err instanceof WrkMissingError ? err.message : (err as Error).stack ?? String(err)}\n`)
  await stopAll()
  process.exitCode = 1
})
