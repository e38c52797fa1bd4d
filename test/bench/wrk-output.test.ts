// parseWrkOutput (bench/lib/wrk.ts) on text laid out as wrk 4.x prints it with --latency:
// the counts, the rate, the percentiles and max in ms whatever unit wrk chose, and the errors.

import t from 'tap'
import { parseWrkOutput, scriptError } from '../../bench/lib/wrk.js'

// wrk pads a value ending in one letter ("1.02s") with a trailing space; kept here on purpose.
const healthy = [
  'Running 5s test @ http://127.0.0.1:40123/stream/cam-1',
  '  1 threads and 64 connections',
  '  Thread Stats   Avg      Stdev     Max   +/- Stdev',
  '    Latency     1.21ms  512.34us  14.07ms   91.40%',
  '    Req/Sec    53.12k     2.87k   57.01k    82.00%',
  '  Latency Distribution',
  '     50%  635.00us',
  '     75%    1.36ms',
  '     90%    1.71ms',
  '     99%    3.05ms',
  '  264315 requests in 5.00s, 58.23MB read',
  'Requests/sec:  52858.41',
  'Transfer/sec:     11.64MB',
  ''
].join('\n')

const struggling = [
  'Running 10s test @ http://127.0.0.1:40123/stream/cam-2',
  '  1 threads and 64 connections',
  '  Thread Stats   Avg      Stdev     Max   +/- Stdev',
  '    Latency   845.12ms  402.50ms   2.00s     71.20%',
  '    Req/Sec    77.31     20.45   120.00     66.00%',
  '  Latency Distribution',
  '     50%  812.40ms',
  '     75%    1.02s ',
  '     90%    1.34s ',
  '     99%    1.53s ',
  '  742 requests in 10.01s, 181.12KB read',
  '  Socket errors: connect 3, read 12, write 1, timeout 64',
  '  Non-2xx or 3xx responses: 17',
  'Requests/sec:     74.13',
  'Transfer/sec:     18.10KB',
  ''
].join('\n')

t.test('a healthy run is read with every latency in milliseconds', async (t) => {
  t.strictSame(parseWrkOutput(healthy), {
    requests: 264315,
    durationS: 5,
    requestsPerSec: 52858.41,
    p50Ms: 0.635,
    p75Ms: 1.36,
    p90Ms: 1.71,
    p99Ms: 3.05,
    maxMs: 14.07,
    non2xx3xx: 0,
    socketErrors: { connect: 0, read: 0, write: 0, timeout: 0 }
  })
})

t.test('microseconds are divided by 1000 and seconds multiplied by 1000', async (t) => {
  const result = parseWrkOutput(struggling)
  t.equal(result.p50Ms, 812.4, '812.40ms stays as it is')
  t.equal(result.p75Ms, 1020, '1.02s is 1020 ms')
  t.equal(result.p90Ms, 1340, '1.34s is 1340 ms')
  t.equal(result.p99Ms, 1530, '1.53s is 1530 ms')
  t.equal(result.maxMs, 2000, 'max is the third column of the Latency row, 2.00s')
  t.equal(parseWrkOutput(healthy).p50Ms, 0.635, '635.00us is 0.635 ms')
})

t.test('minutes and hours are read too, in latencies and in the run length', async (t) => {
  const long = healthy
    .replace('  264315 requests in 5.00s,', '  3171780 requests in 1.00m,')
    .replace('     99%    3.05ms', '     99%    1.50m ')
    .replace('  14.07ms', '   0.50h ')
  const result = parseWrkOutput(long)
  t.equal(result.durationS, 60, '1.00m is 60 s')
  t.equal(result.requests, 3171780)
  t.equal(result.p99Ms, 90_000, '1.50m is 90,000 ms')
  t.equal(result.maxMs, 1_800_000, '0.50h is 1,800,000 ms')
})

t.test('the run length and the rate come from the summary lines', async (t) => {
  const result = parseWrkOutput(struggling)
  t.equal(result.requests, 742)
  t.equal(result.durationS, 10.01)
  t.equal(result.requestsPerSec, 74.13)
  t.equal(parseWrkOutput(healthy.replace('in 5.00s,', 'in 750.00ms,')).durationS, 0.75, 'a run shorter than a second')
})

t.test('socket errors and non-2xx/3xx answers are read when wrk prints them', async (t) => {
  const result = parseWrkOutput(struggling)
  t.strictSame(result.socketErrors, { connect: 3, read: 12, write: 1, timeout: 64 })
  t.equal(result.non2xx3xx, 17)
})

t.test('without those lines there were no errors', async (t) => {
  const result = parseWrkOutput(healthy)
  t.equal(result.non2xx3xx, 0)
  t.strictSame(result.socketErrors, { connect: 0, read: 0, write: 0, timeout: 0 })
  const onlyNon = healthy.replace('Requests/sec:', '  Non-2xx or 3xx responses: 5\nRequests/sec:')
  t.equal(parseWrkOutput(onlyNon).non2xx3xx, 5)
  t.strictSame(parseWrkOutput(onlyNon).socketErrors, { connect: 0, read: 0, write: 0, timeout: 0 }, 'non-2xx alone brings no socket errors')
})

t.test('a run where every request timed out reads as zero requests, not as a failure to parse', async (t) => {
  const stalled = [
    'Running 5s test @ http://127.0.0.1:40123/stream/cam-1',
    '  1 threads and 64 connections',
    '  Thread Stats   Avg      Stdev     Max   +/- Stdev',
    '    Latency     0.00us    0.00us   0.00us    -nan%',
    '    Req/Sec     0.00      0.00     0.00      -nan%',
    '  Latency Distribution',
    '     50%    0.00us',
    '     75%    0.00us',
    '     90%    0.00us',
    '     99%    0.00us',
    '  0 requests in 5.00s, 0.00B read',
    '  Socket errors: connect 0, read 0, write 0, timeout 64',
    'Requests/sec:      0.00',
    'Transfer/sec:       0.00B',
    ''
  ].join('\n')
  const result = parseWrkOutput(stalled)
  t.equal(result.requests, 0)
  t.equal(result.requestsPerSec, 0)
  t.equal(result.p99Ms, 0)
  t.equal(result.maxMs, 0)
  t.equal(result.socketErrors.timeout, 64)
})

t.test('a missing percentile throws and names it', async (t) => {
  for (const p of [50, 75, 90, 99]) {
    const without = healthy.split('\n').filter((line) => !line.startsWith(`     ${p}%`)).join('\n')
    t.throws(() => parseWrkOutput(without), { message: new RegExp(`^wrk: no ${p}% latency in its output:\n`) }, `without ${p}%`)
  }
})

t.test('a missing request count or rate throws', async (t) => {
  const noCount = healthy.replace('  264315 requests in 5.00s, 58.23MB read\n', '')
  t.throws(() => parseWrkOutput(noCount), { message: /^wrk: no request count in its output:/ }, 'without the "requests in" line')
  const noRate = healthy.replace('Requests/sec:  52858.41\n', '')
  t.throws(() => parseWrkOutput(noRate), { message: /^wrk: no request count in its output:/ }, 'without Requests/sec')
})

t.test('text that is not a wrk report throws, quoting the text', async (t) => {
  t.throws(() => parseWrkOutput(''), { message: /^wrk: no request count/ })
  const refused = 'unable to connect to 127.0.0.1:1 Connection refused\n'
  t.throws(() => parseWrkOutput(refused), { message: `wrk: no request count in its output:\n${refused}` })
})

t.test('a latency in a unit wrk does not print throws instead of being misread', async (t) => {
  t.throws(() => parseWrkOutput(healthy.replace('     90%    1.71ms', '     90%    1.71ns')), { message: 'wrk: cannot read the duration "1.71ns"' })
  t.throws(() => parseWrkOutput(healthy.replace('     50%  635.00us', '     50%      fast')), { message: 'wrk: cannot read the duration "fast"' })
})

t.test('without the Thread Stats latency row, max is not read from the distribution below it', async (t) => {
  const noStats = healthy.split('\n').filter((line) => !line.startsWith('    Latency ')).join('\n')
  t.ok(Number.isNaN(parseWrkOutput(noStats).maxMs), 'max is unknown, not the 50th percentile')
})

t.test('a script that failed in wrk is found in its output; a healthy run has none', async (t) => {
  const script = '/repo/bench/wrk/new-clients.lua'
  const failed = `${script}: ${script}:15: module 'addresses' not found:\n\tno field package.preload['addresses']\n${healthy}`
  t.equal(scriptError(failed, script), `${script}: ${script}:15: module 'addresses' not found:`)
  t.equal(scriptError(healthy, script), undefined)
})
