// The bench's command line (bench/lib/options.ts): defaults, --quick, value ranges and their
// errors, the --flag=value form, --scenario picking, and the usage text.

import t from 'tap'
import { parseOptions, scenarioNames, usage, type BenchOptions } from '../../bench/lib/options.js'

const allScenarios = ['micro', 'warm', 'cold', 'cold-unsigned', 'cold-store', 'resolver-down', 'players', 'analytics', 'hls-segments', 'steering', 'node', 'node-cached', 'many-nodes', 'warm-decision-log']

t.test('no arguments give the full defaults and every scenario', async (t) => {
  const expected: BenchOptions = {
    durationS: 5,
    rounds: 3,
    warmupS: 3,
    settleS: 1,
    quick: false,
    scenarios: [...scenarioNames],
    strict: false,
    tsx: false,
    tokens: 1_000_000,
    extraNodes: 10_000,
    viewers: 5000,
    help: false
  }
  t.strictSame(parseOptions([]), expected)
  t.strictSame(parseOptions([]).scenarios, allScenarios, 'scenarios in their listed order')
})

t.test('--quick shortens every run and makes fewer tokens, but keeps the node count', async (t) => {
  t.match(parseOptions(['--quick']), { quick: true, durationS: 2, rounds: 1, warmupS: 1, settleS: 0, tokens: 50_000, extraNodes: 10_000, viewers: 200, scenarios: allScenarios })
})

t.test('explicit values win over the --quick defaults, before or after it', async (t) => {
  const after = parseOptions(['--quick', '--duration', '7', '--rounds', '4', '--warmup', '2', '--settle', '3', '--tokens', '5000'])
  t.strictSame([after.durationS, after.rounds, after.warmupS, after.settleS, after.tokens], [7, 4, 2, 3, 5000])
  const before = parseOptions(['--duration', '7', '--settle', '3', '--quick'])
  t.equal(before.durationS, 7, 'duration given before --quick is kept')
  t.equal(before.settleS, 3, 'settle given before --quick is kept')
  t.equal(before.rounds, 1, 'what was not given takes the quick default')
})

t.test('a flag with a value takes the next argument, and the arguments after it still count', async (t) => {
  const options = parseOptions(['--duration', '3', '--strict', '--nodes', '250', '--tsx'])
  t.equal(options.durationS, 3)
  t.equal(options.extraNodes, 250)
  t.equal(options.strict, true)
  t.equal(options.tsx, true)
})

t.test('the --flag=value form reads the same as --flag value', async (t) => {
  const inline = parseOptions(['--duration=10', '--rounds=4', '--warmup=0', '--settle=2', '--tokens=1000', '--nodes=0', '--scenario=cold,warm'])
  const spaced = parseOptions(['--duration', '10', '--rounds', '4', '--warmup', '0', '--settle', '2', '--tokens', '1000', '--nodes', '0', '--scenario', 'cold,warm'])
  t.strictSame(inline, spaced)
  t.match(inline, { durationS: 10, rounds: 4, warmupS: 0, settleS: 2, tokens: 1000, extraNodes: 0, scenarios: ['warm', 'cold'] })
})

t.test('the boolean flags are off unless given', async (t) => {
  const options = parseOptions(['--strict', '--tsx', '--help'])
  t.strictSame([options.strict, options.tsx, options.help, options.quick], [true, true, true, false])
  t.equal(parseOptions(['-h']).help, true, '-h is --help')
  t.equal(parseOptions(['--strict']).tsx, false)
})

t.test('each ranged value accepts both ends of its range', async (t) => {
  const ends: Array<[string, keyof BenchOptions, number, number]> = [
    ['--duration', 'durationS', 1, 120],
    ['--rounds', 'rounds', 1, 20],
    ['--warmup', 'warmupS', 0, 60],
    ['--settle', 'settleS', 0, 60],
    ['--tokens', 'tokens', 1000, 2_000_000],
    ['--nodes', 'extraNodes', 0, 100_000]
  ]
  for (const [flag, key, min, max] of ends) {
    t.equal(parseOptions([flag, String(min)])[key], min, `${flag} ${min}`)
    t.equal(parseOptions([flag, String(max)])[key], max, `${flag} ${max}`)
  }
})

t.test('a value out of its range is refused with the range and what was given', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['--duration', '0', '--duration needs a number from 1 to 120, got "0"'],
    ['--duration', '121', '--duration needs a number from 1 to 120, got "121"'],
    ['--rounds', '0', '--rounds needs a number from 1 to 20, got "0"'],
    ['--rounds', '21', '--rounds needs a number from 1 to 20, got "21"'],
    ['--rounds', '0.4', '--rounds needs a number from 1 to 20, got "0.4"'],
    ['--warmup', '-1', '--warmup needs a number from 0 to 60, got "-1"'],
    ['--warmup', '61', '--warmup needs a number from 0 to 60, got "61"'],
    ['--settle', '-0.5', '--settle needs a number from 0 to 60, got "-0.5"'],
    ['--settle', '60.5', '--settle needs a number from 0 to 60, got "60.5"'],
    ['--tokens', '999', '--tokens needs a number from 1000 to 2000000, got "999"'],
    ['--nodes', '100001', '--nodes needs a number from 0 to 100000, got "100001"']
  ]
  for (const [flag, raw, message] of cases) {
    t.throws(() => parseOptions([flag, raw]), { message }, `${flag} ${raw}`)
    t.throws(() => parseOptions([`${flag}=${raw}`]), { message }, `${flag}=${raw}`)
  }
})

t.test('a value that is not a number, or is missing, is refused', async (t) => {
  const notNumbers = ['abc', '5s', '', '  ', 'NaN', 'Infinity', '1,5']
  for (const raw of notNumbers) {
    t.throws(() => parseOptions(['--duration', raw]), { message: `--duration needs a number from 1 to 120, got ${JSON.stringify(raw)}` }, JSON.stringify(raw))
  }
  t.throws(() => parseOptions(['--rounds']), { message: '--rounds needs a number from 1 to 20, got ""' }, 'the flag is the last argument')
  t.throws(() => parseOptions(['--duration', '--quick']), { message: '--duration needs a number from 1 to 120, got "--quick"' },
    'the next flag is not taken as a number')
})

t.test('counts and durations are rounded to whole numbers (wrk runs whole seconds)', async (t) => {
  t.equal(parseOptions(['--rounds', '2.6']).rounds, 3)
  t.equal(parseOptions(['--rounds', '2.4']).rounds, 2)
  t.equal(parseOptions(['--settle', '0.4']).settleS, 0)
  t.equal(parseOptions(['--settle', '1.5']).settleS, 2)
  t.equal(parseOptions(['--tokens', '1500.7']).tokens, 1501)
  t.equal(parseOptions(['--duration', '1.5']).durationS, 2)
  t.equal(parseOptions(['--warmup', '0.4']).warmupS, 0)
})

t.test('a switch given a value, an empty --scenario and a value with = in it are refused', async (t) => {
  t.throws(() => parseOptions(['--strict=false']), { message: '--strict takes no value, got "false"' })
  t.throws(() => parseOptions(['--quick=no']), { message: '--quick takes no value, got "no"' })
  t.throws(() => parseOptions(['--scenario=']), /--scenario needs one or more of: micro, warm/)
  t.throws(() => parseOptions(['--scenario']), /--scenario needs one or more of/)
  t.throws(() => parseOptions(['--duration=5=9']), /--duration needs a number from 1 to 120, got "5=9"/)
})

t.test('--scenario picks scenarios in their listed order, whatever order they were given in', async (t) => {
  t.strictSame(parseOptions(['--scenario', 'many-nodes,micro,cold']).scenarios, ['micro', 'cold', 'many-nodes'])
  t.strictSame(parseOptions(['--scenario', 'warm']).scenarios, ['warm'])
})

t.test('--scenario can be repeated and names are kept once', async (t) => {
  t.strictSame(parseOptions(['--scenario', 'warm', '--scenario', 'micro,warm', '--scenario=warm']).scenarios, ['micro', 'warm'])
  t.strictSame(parseOptions(['--scenario', 'cold,cold,cold']).scenarios, ['cold'])
})

t.test('--scenario trims spaces and skips empty names', async (t) => {
  t.strictSame(parseOptions(['--scenario', ' resolver-down , warm ,,']).scenarios, ['warm', 'resolver-down'])
})

t.test('an unknown scenario is refused with the known ones listed', async (t) => {
  const message = `unknown scenario "hot"; known: ${allScenarios.join(', ')}`
  t.throws(() => parseOptions(['--scenario', 'hot']), { message })
  t.throws(() => parseOptions(['--scenario', 'warm,hot']), { message }, 'one bad name in a list is enough')
  t.throws(() => parseOptions(['--scenario', 'Warm']), { message: /unknown scenario "Warm"/ }, 'names are case-sensitive')
})

t.test('an unknown option or a stray argument is refused with the usage text', async (t) => {
  for (const arg of ['--fast', '-q', 'warm', '--Quick', '--durations=5']) {
    t.throws(() => parseOptions([arg]), { message: `unknown option ${JSON.stringify(arg)}\n\n${usage}` }, arg)
  }
})

t.test('the usage text names every scenario and every option, and every option it names parses', async (t) => {
  for (const name of scenarioNames) t.match(usage, name, `usage lists ${name}`)
  const flags = [...new Set(usage.match(/--[a-z]+/g) ?? [])]
  t.strictSame(flags.sort(), ['--duration', '--help', '--nodes', '--quick', '--rounds', '--scenario', '--settle', '--strict', '--tokens', '--tsx', '--viewers', '--warmup'])
  const sampleValue: Record<string, string> = {
    '--duration': '5', '--rounds': '3', '--warmup': '3', '--settle': '1', '--tokens': '200000', '--nodes': '10000', '--viewers': '5000', '--scenario': 'warm'
  }
  for (const flag of flags) {
    const value = sampleValue[flag]
    const argv = value === undefined ? [flag] : [flag, value]
    t.doesNotThrow(() => parseOptions(argv), `${argv.join(' ')} parses`)
  }
  t.match(usage, /default 5; --quick: 2/, 'the duration defaults shown are the real ones')
  t.match(usage, /default 1000000, .*; --quick: 50000/, 'the token defaults shown are the real ones')
})
