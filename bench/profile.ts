// A CPU profile of the gateway under load: the same processes as `npm run bench`, the gateway
// started with `node --cpu-prof`, a warm-up and a measured wrk run, then a clean stop (so the
// profile is written) and its top functions printed.
//
//   node --import tsx bench/profile.ts [--scenario warm] [--duration 10] [--top 30] [--tsx]
//
// Scenarios: warm (default), cold, resolver-down, many-nodes. The profile is written to
// bench/results/profiles/gateway-<scenario>.cpuprofile (git ignores *.cpuprofile); open it in
// Chrome DevTools or read it again with bench/top-functions.ts.

import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { buildForBench, root, tsxLauncher } from './lib/build.js'
import { stopAll, stopChildrenOnExit } from './lib/children.js'
import { prepareGateway } from './lib/prepare.js'
import { loadScenarios, type LoadScenario } from './lib/scenarios.js'
import { LOAD_CORE, startGateway, startSystem } from './lib/system.js'
import { runWarmUpPass } from './lib/warm-up-pass.js'
import { STORE_TOKENS } from './servers/bench-data.js'
import { requireWrk, runWrk, type WrkResult } from './lib/wrk.js'
import { formatSummary, summarizeProfile, type CpuProfile } from './top-functions.js'

function log (line: string): void {
  process.stderr.write(`profile: ${line}\n`)
}

interface ProfileOptions {
  scenario: LoadScenario
  durationS: number
  warmupS: number
  top: number
  tsx: boolean
}

function parse (argv: string[]): ProfileOptions {
  const options = { scenario: 'warm', durationS: 10, warmupS: 3, top: 30, tsx: false }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    const next = (): string => {
      const value = argv[++i]
      if (value === undefined) throw new Error(`${arg} needs a value`)
      return value
    }
    if (arg === '--scenario') options.scenario = next()
    else if (arg === '--duration') options.durationS = Number(next())
    else if (arg === '--warmup') options.warmupS = Number(next())
    else if (arg === '--top') options.top = Number(next())
    else if (arg === '--tsx') options.tsx = true
    else throw new Error(`unknown argument ${arg}`)
  }
  const scenario = loadScenarios.find((s) => s.name === options.scenario)
  if (scenario === undefined) throw new Error(`unknown scenario ${options.scenario}; known: ${loadScenarios.map((s) => s.name).join(', ')}`)
  for (const [name, value] of [['--duration', options.durationS], ['--warmup', options.warmupS], ['--top', options.top]] as const) {
    if (!Number.isFinite(value) || value < 0 || value > 600) throw new Error(`${name} must be a number from 0 to 600`)
  }
  return { ...options, scenario }
}

function describe (r: WrkResult): string {
  return `${Math.round(r.requestsPerSec).toLocaleString('en-US')} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, ${r.non2xx3xx} non-2xx/3xx`
}

async function main (): Promise<void> {
  const options = parse(process.argv.slice(2))
  const { scenario } = options
  requireWrk()
  stopChildrenOnExit(log)
  const dir = path.join(root, 'bench', 'results', 'profiles')
  const name = `gateway-${scenario.name}.cpuprofile`
  const file = path.join(dir, name)
  mkdirSync(dir, { recursive: true })
  rmSync(file, { force: true })

  try {
    log(options.tsx ? 'running the sources with tsx' : 'compiling src and the bench servers (tsc)')
    const launcher = options.tsx ? tsxLauncher() : buildForBench()
    const tokens = scenario.name === 'cold' || scenario.name === 'cold-unsigned' ? 200_000 : 1000
    log('starting the store, the resolver and the auth-server')
    const storeTokens = ['cold-store', 'players', 'analytics'].includes(scenario.name) ? STORE_TOKENS : 0
    const system = await startSystem(launcher, { tokens, storeTokens, extraNodes: scenario.database === 'manyNodes' ? 10_000 : 0 })
    const spawnedAt = Date.now()
    const gateway = await startGateway(launcher, system, {
      database: scenario.database,
      resolverDown: scenario.resolverDown,
      tokenStore: scenario.tokenStore,
      nodeFlags: ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', name],
      name: 'gateway (profiled)'
    })
    await prepareGateway(scenario, system, gateway.url, log)
    if (scenario.warmUpPass !== undefined) await runWarmUpPass(gateway.url, scenario.warmUpPass())
    let firstClient = 0
    const load = (durationS: number): Promise<WrkResult> => runWrk({
      url: gateway.url + scenario.path,
      durationS,
      headers: scenario.headers,
      core: LOAD_CORE,
      ...(scenario.script !== undefined && { script: scenario.script }),
      ...(scenario.scriptArgs !== undefined && { scriptArgs: scenario.scriptArgs({ firstClient, tokens }) })
    })
    if (options.warmupS > 0) {
      log(`warm-up ${options.warmupS} s`)
      firstClient = (await load(options.warmupS)).requests + 1000
    }
    const fromMs = Date.now() - spawnedAt
    log(`${scenario.name} load ${options.durationS} s`)
    const result = await load(options.durationS)
    log(describe(result))
    // A clean exit writes the profile.
    await gateway.child.stop()
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
    process.stdout.write(`\n${scenario.name}: ${describe(result)}\nprofile: ${path.relative(process.cwd(), file)} (samples from ${fromMs} ms on, the measured run)\n\n`)
    process.stdout.write(formatSummary(summarizeProfile(profile, { fromMs }), { top: options.top, inclusive: true }))
  } finally {
    await stopAll()
  }
}

main().catch(async (err: unknown) => {
  process.stderr.write(`profile: ${(err as Error).stack ?? String(err)}\n`)
  await stopAll()
  process.exitCode = 1
})
