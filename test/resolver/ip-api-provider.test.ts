// The ip-api provider against a local server speaking ip-api's JSON: normal answers, a slow
// server, a failing one, a rate-limited one; its cache, rate limit and breaker.

import t, { type Test } from 'tap'
import { createIpApiProvider, parseIpApiAnswer, type IpApiProviderOptions } from '../../src/resolver/ip-api-provider.js'
import { SKIPPED } from '../../src/resolver/provider-chain.js'
import { startIpApiFixture } from './ip-api-fixture.js'

function clock (): { now: () => number, advance: (ms: number) => void } {
  let at = 1_000_000
  return { now: () => at, advance: (ms) => { at += ms } }
}

function provider (t: Test, options: IpApiProviderOptions): ReturnType<typeof createIpApiProvider> {
  const p = createIpApiProvider(options)
  t.teardown(() => p.close())
  return p
}

t.test('ip-api\'s JSON as a location with the network', async (t) => {
  t.same(parseIpApiAnswer({ status: 'success', countryCode: 'us', region: 'VA', city: 'Ashburn', lat: 39.03, lon: -77.5, as: 'AS15169 Google LLC', org: 'Google Public DNS' }), {
    location: { country_code: 'US', region_iso: 'US-VA', city: 'Ashburn', coordinates: [39.03, -77.5], country_only: false },
    asn: 15169,
    org: 'Google Public DNS'
  })
  t.same(parseIpApiAnswer({ status: 'success', countryCode: 'CH', region: '', city: '', lat: 47.1, lon: 8.2, as: 'AS19281 Quad9', org: '' }), {
    location: { country_code: 'CH', region_iso: null, city: null, coordinates: [47.1, 8.2], country_only: true },
    asn: 19281,
    org: 'Quad9'
  }, 'no city and no region: country-only; the org from "as" when org is empty')
  t.same(parseIpApiAnswer({ status: 'success', countryCode: 'DE', lat: 200, lon: 0 }), {
    location: { country_code: 'DE', region_iso: null, city: null, coordinates: null, country_only: true }
  }, 'coordinates out of range are dropped; no "as": no network')
  t.equal(parseIpApiAnswer({ status: 'fail', message: 'private range' }), null)
  t.same(parseIpApiAnswer({ status: 'success' }), { location: null }, 'success with nothing in it: no location')
  t.equal(parseIpApiAnswer('hello'), undefined)
  t.equal(parseIpApiAnswer({ status: 'maybe' }), undefined)
})

t.test('normal answers are cached, and concurrent asks for one IP share a call', async (t) => {
  const server = await startIpApiFixture(t)
  const time = clock()
  const p = provider(t, { url: server.url, now: time.now, cacheTtlMs: 10_000 })
  const [a, b] = await Promise.all([p.locate('8.8.8.8'), p.locate('8.8.8.8')])
  t.match(a, { location: { city: 'Ashburn', country_code: 'US' }, asn: 15169 })
  t.equal(a, b)
  t.same(server.asked, ['8.8.8.8'])
  t.equal(await p.locate('10.1.2.3'), null, 'ip-api\'s fail status: no data')
  await p.locate('8.8.8.8')
  await p.locate('10.1.2.3')
  t.same(server.asked, ['8.8.8.8', '10.1.2.3'], 'answers and "no data" both cached')
  time.advance(10_001)
  await p.locate('8.8.8.8')
  t.equal(server.asked.length, 3, 'asked again once the cache entry expired')
  t.equal(p.calls, 3)
})

t.test('a slow server: skipped after the timeout, and a breaker opens after repeated failures', async (t) => {
  const server = await startIpApiFixture(t)
  server.mode = 'slow'
  // A timeout a loaded machine's normal answer beats, and a slow answer that never does.
  server.slowMs = 20_000
  const time = clock()
  const p = provider(t, { url: server.url, now: time.now, timeoutMs: 800, breaker: { failureThreshold: 2, cooldownMs: 5000 } })
  t.equal(await p.locate('8.8.8.8'), SKIPPED)
  t.equal(await p.locate('8.8.8.8'), SKIPPED, 'a skipped call is not cached')
  t.equal(p.breakerState, 'open')
  const asked = server.asked.length
  t.equal(await p.locate('9.9.9.9'), SKIPPED)
  t.equal(server.asked.length, asked, 'while open, no call goes out')
  server.mode = 'normal'
  time.advance(5000)
  t.match(await p.locate('9.9.9.9'), { location: { country_code: 'CH' } }, 'after the cooldown a probe goes out and succeeds')
  t.equal(p.breakerState, 'closed')
})

t.test('a failing server (5xx, or not its JSON) is skipped and counts towards the breaker', async (t) => {
  const server = await startIpApiFixture(t)
  const time = clock()
  const p = provider(t, { url: server.url, now: time.now, breaker: { failureThreshold: 2, cooldownMs: 1000 } })
  server.mode = 'error'
  t.equal(await p.locate('8.8.8.8'), SKIPPED)
  server.mode = 'garbage'
  t.equal(await p.locate('8.8.8.8'), SKIPPED)
  t.equal(p.breakerState, 'open')
  t.equal(server.asked.length, 2)
})

t.test('rate limits: our own per minute, the service\'s X-Rl/X-Ttl, and its 429', async (t) => {
  const server = await startIpApiFixture(t)
  const time = clock()
  const p = provider(t, { url: server.url, now: time.now, requestsPerMinute: 2 })
  t.not(await p.locate('8.8.8.8'), SKIPPED)
  t.not(await p.locate('9.9.9.9'), SKIPPED)
  t.equal(await p.locate('2.72.0.1'), SKIPPED, 'a third call within the minute is held back')
  t.equal(server.asked.length, 2)
  time.advance(60_000)
  t.match(await p.locate('2.72.0.1'), { location: { city: 'Almaty' } }, 'a new minute, a new allowance')

  const p2 = provider(t, { url: server.url, now: time.now })
  server.remaining = 0
  server.ttlS = 30
  t.match(await p2.locate('8.8.8.8'), { location: { city: 'Ashburn' } }, 'the answer that says X-Rl: 0 is used')
  const asked = server.asked.length
  t.equal(await p2.locate('9.9.9.9'), SKIPPED, 'then no call until X-Ttl has passed')
  t.equal(server.asked.length, asked)
  server.remaining = undefined
  time.advance(30_000)
  t.match(await p2.locate('9.9.9.9'), { location: { country_code: 'CH' } })

  const p3 = provider(t, { url: server.url, now: time.now, breaker: { failureThreshold: 1, cooldownMs: 1000 } })
  server.mode = 'rate-limited'
  server.ttlS = 20
  t.equal(await p3.locate('2.72.0.1'), SKIPPED, '429: skipped')
  t.equal(p3.breakerState, 'closed', 'being rationed is not a failure')
  server.mode = 'normal'
  const before = server.asked.length
  time.advance(19_000)
  t.equal(await p3.locate('2.72.0.1'), SKIPPED, 'held back for X-Ttl seconds')
  t.equal(server.asked.length, before)
  time.advance(1000)
  t.match(await p3.locate('2.72.0.1'), { location: { city: 'Almaty' } })
})

t.test('options are checked', async (t) => {
  t.throws(() => createIpApiProvider({ url: 'ftp://x' }), TypeError)
  t.throws(() => createIpApiProvider({ url: 'http://127.0.0.1:1/json', timeoutMs: 0 }), TypeError)
  t.throws(() => createIpApiProvider({ url: 'http://127.0.0.1:1/json', requestsPerMinute: -1 }), TypeError)
})
