// The bench's command line.

export const scenarioNames = ['micro', 'warm', 'cold', 'cold-unsigned', 'cold-store', 'resolver-down', 'players', 'analytics', 'hls-segments', 'steering', 'node', 'node-cached', 'many-nodes', 'warm-decision-log'] as const
export type ScenarioName = typeof scenarioNames[number]

export interface BenchOptions {
  /** Seconds of each measured wrk run. */
  durationS: number
  /** Gateway runs per scenario, each between two baseline runs. */
  rounds: number
  /** Seconds of the warm-up run of each server, once per scenario. */
  warmupS: number
  /**
   * Seconds of unmeasured load just before each measured run, on the server about to be
   * measured: it has been idle while the other one ran, and a gateway under 64 connections
   * is not idle, so the run measures it busy, not waking up.
   */
  settleS: number
  quick: boolean
  scenarios: ScenarioName[]
  /** Exit 1 when a budget fails. */
  strict: boolean
  /** Run the servers from the sources through tsx instead of compiling them first. */
  tsx: boolean
  /** Bench tokens created for the cold scenario. */
  tokens: number
  /** Extra nodes in the many-nodes scenario's store. */
  extraNodes: number
  /** Viewers of the HLS, steering and node scenarios, each a session of its own. */
  viewers: number
  help: boolean
}

export const usage = `npm run bench -- [options]

  --duration S      seconds per measured run (default 5; --quick: 2)
  --rounds N        gateway runs per scenario, each between two baseline runs (default 3; --quick: 1)
  --warmup S        seconds of warm-up of each server per scenario (default 3; --quick: 1)
  --settle S        seconds of unmeasured load right before each measured run (default 1; --quick: 0)
  --quick           short runs, fewer tokens: a smoke test of the bench itself
  --scenario NAME   run only these (repeat, or comma-separate): ${scenarioNames.join(', ')}
  --strict          exit 1 when a budget fails (default: report and exit 0)
  --tsx             run the servers from the sources with tsx instead of compiling them
  --tokens N        bench tokens for the cold scenarios (default 1000000, more than a cold scenario's five rounds ask for; --quick: 50000)
  --nodes N         extra nodes for many-nodes (default 10000)
  --viewers N       viewers (sessions) of hls-segments, steering, node and node-cached (default 5000; --quick: 200)
  --help            this text
`

function number (flag: string, raw: string | undefined, min: number, max: number): number {
  const value = Number(raw)
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${flag} needs a number from ${min} to ${max}, got ${JSON.stringify(raw ?? '')}`)
  }
  return value
}

export function parseOptions (argv: readonly string[]): BenchOptions {
  let duration: number | undefined
  let rounds: number | undefined
  let warmup: number | undefined
  let settle: number | undefined
  let tokens: number | undefined
  let extraNodes: number | undefined
  let viewers: number | undefined
  const picked: ScenarioName[] = []
  const options = { quick: false, strict: false, tsx: false, help: false }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    const equals = arg.indexOf('=')
    const [flag, inline] = equals >= 0 ? [arg.slice(0, equals), arg.slice(equals + 1)] : [arg, undefined]
    const value = (): string | undefined => inline ?? argv[++i]
    const switchOn = (): true => {
      if (inline !== undefined) throw new Error(`${flag} takes no value, got ${JSON.stringify(inline)}`)
      return true
    }
    // wrk runs whole seconds: so are the durations, as the report prints them.
    switch (flag) {
      case '--duration': duration = Math.round(number(flag, value(), 1, 120)); break
      case '--rounds': rounds = Math.round(number(flag, value(), 1, 20)); break
      case '--warmup': warmup = Math.round(number(flag, value(), 0, 60)); break
      case '--settle': settle = Math.round(number(flag, value(), 0, 60)); break
      case '--tokens': tokens = Math.round(number(flag, value(), 1000, 2_000_000)); break
      case '--nodes': extraNodes = Math.round(number(flag, value(), 0, 100_000)); break
      case '--viewers': viewers = Math.round(number(flag, value(), 1, 100_000)); break
      case '--quick': options.quick = switchOn(); break
      case '--strict': options.strict = switchOn(); break
      case '--tsx': options.tsx = switchOn(); break
      case '--help': case '-h': options.help = switchOn(); break
      case '--scenario': {
        const names = (value() ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')
        if (names.length === 0) throw new Error(`--scenario needs one or more of: ${scenarioNames.join(', ')}`)
        for (const name of names) {
          if (!(scenarioNames as readonly string[]).includes(name)) throw new Error(`unknown scenario ${JSON.stringify(name)}; known: ${scenarioNames.join(', ')}`)
          if (!picked.includes(name as ScenarioName)) picked.push(name as ScenarioName)
        }
        break
      }
      default:
        throw new Error(`unknown option ${JSON.stringify(arg)}\n\n${usage}`)
    }
  }
  return {
    ...options,
    durationS: duration ?? (options.quick ? 2 : 5),
    rounds: rounds ?? (options.quick ? 1 : 3),
    warmupS: warmup ?? (options.quick ? 1 : 3),
    settleS: settle ?? (options.quick ? 0 : 1),
    // Enough that no token of a full run's cold pair comes round again within its grant's
    // minute: with 200,000, a third of each one's requests reused a cached token, the faster
    // of the two more of them, and the pair measured that instead of signing.
    tokens: tokens ?? (options.quick ? 50_000 : 1_000_000),
    extraNodes: extraNodes ?? 10_000,
    viewers: viewers ?? (options.quick ? 200 : 5000),
    // In the order they are listed, whatever the order given.
    scenarios: picked.length === 0 ? [...scenarioNames] : scenarioNames.filter((name) => picked.includes(name))
  }
}
