import { cachedValue } from '../../src/cache/cached-lookup.js'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import type { LocationSource } from '../../src/geo/location.js'
import { type LocationLookup, openCityDatabase } from '../../src/geo/maxmind-lookup.js'
import { type GeoLocatorOptions, createGeoLocator } from '../../src/geo/resolver-client.js'
import { cityV2Fixture } from '../fixtures/mmdb/paths.js'
import { startResolver } from '../resolver/resolver-fixture.js'

// The fallback reads the v2 fixture, where 77.88.8.0/24 is Kazan; the resolver reads v1, where
// it is Moscow. So every answer shows where it came from.
let fallback: LocationLookup
t.before(async () => { fallback = await openCityDatabase(cityV2Fixture) })
t.teardown(() => fallback.close())

interface Harness {
  locator: ReturnType<typeof createGeoLocator>
  clock: { now: number }
  sources: LocationSource[]
}

function makeLocator (t: Test, resolverUrl: string, overrides: Partial<GeoLocatorOptions> = {}): Harness {
  const clock = { now: 1_000_000 }
  const sources: LocationSource[] = []
  const locator = createGeoLocator({
    resolverUrl,
    // Generous, so that a loaded test machine never turns a slow first answer into a fallback.
    timeoutMs: 2000,
    cacheMax: 1000,
    cacheTtlMs: 60_000,
    breaker: { failureThreshold: 3, cooldownMs: 10_000 },
    fallback,
    now: () => clock.now,
    onSource: (source) => sources.push(source),
    ...overrides
  })
  t.teardown(() => locator.close())
  return { locator, clock, sources }
}

async function listen (t: Test, server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

t.test('the resolver answers first, then the cache', async (t) => {
  const resolver = await startResolver(t)
  const { locator, sources } = makeLocator(t, resolver.url)
  t.equal(locator.locateNow('77.88.8.8'), undefined, 'nothing cached yet, and the resolver is up: the caller must wait')
  const first = await locator.locate('77.88.8.8')
  t.equal(first.source, 'resolver')
  t.match(first.location, { country_code: 'RU', region_iso: 'RU-MOW', city: 'Moscow', coordinates: [55.7522, 37.6156] })
  const second = await locator.locate('77.88.8.8')
  t.equal(second.source, 'cache')
  t.equal(second.location, first.location)
  t.same(locator.locateNow('77.88.8.8'), { value: { location: first.location, source: 'cache' } })
  t.equal(resolver.resolveCalls, 1)
  t.same(sources, ['resolver', 'cache', 'cache'])
})

t.test('a 404 is an answer: no location, cached, breaker untouched', async (t) => {
  const resolver = await startResolver(t)
  const { locator } = makeLocator(t, resolver.url)
  t.same(await locator.locate('10.0.0.1'), { location: null, source: 'resolver' })
  t.same(await locator.locate('10.0.0.1'), { location: null, source: 'cache' })
  t.equal(resolver.resolveCalls, 1)
  t.equal(locator.breakerState, 'closed')
})

t.test('cached answers expire by the injected clock', async (t) => {
  const resolver = await startResolver(t)
  const { locator, clock } = makeLocator(t, resolver.url)
  await locator.locate('81.2.69.142')
  clock.now += 60_000
  t.equal((await locator.locate('81.2.69.142')).source, 'cache')
  clock.now += 1
  t.equal((await locator.locate('81.2.69.142')).source, 'resolver')
  t.equal(resolver.resolveCalls, 2)
})

t.test('1,000 concurrent locates of one new IP make one resolver request', async (t) => {
  const resolver = await startResolver(t)
  const { locator } = makeLocator(t, resolver.url)
  const answers = await Promise.all(Array.from({ length: 1000 }, () => locator.locate('95.161.1.1')))
  t.equal(resolver.resolveCalls, 1)
  t.ok(answers.every((a) => a.source === 'resolver' && a.location?.city === 'Saint Petersburg'))
})

t.test('a resolver that never answers: the fallback answers', async (t) => {
  let requests = 0
  const url = await listen(t, createServer(() => { requests++ }))
  const { locator, sources } = makeLocator(t, url, { timeoutMs: 50 })
  const answer = await locator.locate('77.88.8.8')
  t.equal(answer.source, 'fallback')
  t.equal(answer.location?.city, 'Kazan', "the fallback database's answer")
  t.equal(requests, 1)
  t.same(sources, ['fallback'])
})

t.test('a closed port: the fallback answers', async (t) => {
  const server = createServer()
  const url = await listen(t, server)
  await new Promise<void>((resolve) => server.close(() => resolve()))
  const { locator } = makeLocator(t, url)
  const answer = await locator.locate('77.88.8.8')
  t.equal(answer.source, 'fallback')
  t.equal(answer.location?.city, 'Kazan')
})

t.test('a 5xx or a malformed answer: the fallback answers', async (t) => {
  let body = 'oops'
  let status = 500
  const url = await listen(t, createServer((_req, res) => { res.writeHead(status, { 'content-type': 'application/json' }).end(body) }))
  const { locator } = makeLocator(t, url)
  t.equal((await locator.locate('77.88.8.1')).source, 'fallback')
  status = 200
  body = '{"country_code": 7}'
  const odd = await locator.locate('77.88.8.2')
  t.equal(odd.source, 'fallback')
  t.equal(odd.location?.city, 'Kazan')
  body = 'not json'
  t.equal((await locator.locate('77.88.8.3')).source, 'fallback')
})

t.test('fallback answers are cached briefly, then the resolver is asked again', async (t) => {
  const resolver = await startResolver(t)
  const { locator, clock } = makeLocator(t, resolver.url, { fallbackTtlMs: 5000 })
  resolver.failing = true
  t.match(await locator.locate('77.88.8.8'), { source: 'fallback', location: { city: 'Kazan' } })
  resolver.failing = false
  clock.now += 5000
  t.match(await locator.locate('77.88.8.8'), { source: 'cache', location: { city: 'Kazan' } })
  clock.now += 1
  t.match(await locator.locate('77.88.8.8'), { source: 'resolver', location: { city: 'Moscow' } })
  t.equal(resolver.resolveCalls, 2)
})

t.test('the breaker opens after N failures, then half-opens when the clock moves', async (t) => {
  const resolver = await startResolver(t)
  const { locator, clock } = makeLocator(t, resolver.url)
  resolver.failing = true
  // Distinct IPs, so that no answer comes from the cache.
  for (let i = 1; i <= 3; i++) t.equal((await locator.locate(`77.88.8.${i}`)).source, 'fallback')
  t.equal(resolver.resolveCalls, 3)
  t.equal(locator.breakerState, 'open')

  for (let i = 4; i <= 10; i++) t.equal((await locator.locate(`77.88.8.${i}`)).source, 'fallback')
  t.equal(resolver.resolveCalls, 3, 'no request reaches the resolver while the breaker is open')

  clock.now += 10_000
  const probes = await Promise.all([locator.locate('77.88.8.11'), locator.locate('77.88.8.12'), locator.locate('77.88.8.13')])
  t.equal(resolver.resolveCalls, 4, 'half-open: exactly one probe')
  t.ok(probes.every((p) => p.source === 'fallback'))
  t.equal(locator.breakerState, 'open', 'the failed probe opened it again')

  resolver.failing = false
  t.equal((await locator.locate('77.88.8.14')).source, 'fallback')
  t.equal(resolver.resolveCalls, 4)
  clock.now += 10_000
  const probe = await locator.locate('77.88.8.15')
  t.equal(probe.source, 'resolver')
  t.equal(probe.location?.city, 'Moscow')
  t.equal(locator.breakerState, 'closed')
  t.equal((await locator.locate('77.88.8.16')).source, 'resolver')
  t.equal(resolver.resolveCalls, 6)
})

t.test('while the breaker is open, locateNow answers a new client from the local database at once', async (t) => {
  const resolver = await startResolver(t)
  const { locator, clock, sources } = makeLocator(t, resolver.url)
  resolver.failing = true
  for (let i = 1; i <= 3; i++) await locator.locate(`77.88.8.${i}`)
  t.equal(locator.breakerState, 'open')
  sources.length = 0

  const now = locator.locateNow('77.88.8.21')
  t.match(now, { value: { source: 'fallback', location: { city: 'Kazan' } } })
  t.same(sources, ['fallback'])
  t.same(locator.locateNow('77.88.8.21'), { value: { location: cachedValue(now)?.location, source: 'cache' } }, 'and cached, as a loaded answer would be')
  t.equal(locator.locateNow('not-an-ip'), undefined, 'not an address: nothing to look up or cache')
  t.equal(locator.locateNow('77.88.8.24'), now, 'a new client of the same network shares the answer, not a copy of it')
  const unknown = locator.locateNow('10.0.0.1')
  t.same(unknown, { value: { location: null, source: 'fallback' } }, 'a private address: located nowhere')
  t.equal(locator.locateNow('10.0.0.2'), unknown, 'and shared too')
  t.equal(resolver.resolveCalls, 3, 'no request went out')

  clock.now += 10_000
  t.equal(locator.locateNow('77.88.8.22'), undefined, 'the cooldown is over: the caller waits for locate and its probe')
  t.equal(locator.breakerState, 'open', 'locateNow took no probe')
  resolver.failing = false
  t.equal((await locator.locate('77.88.8.22')).source, 'resolver', 'locate sent the probe')
  t.equal(resolver.resolveCalls, 4)
  t.equal(locator.locateNow('77.88.8.23'), undefined, 'closed again: a new client is asked of the resolver')
})

t.test('not an IP: no request, no cache entry', async (t) => {
  const resolver = await startResolver(t)
  const { locator } = makeLocator(t, resolver.url)
  t.same(await locator.locate('not-an-ip'), { location: null, source: 'fallback' })
  t.equal(locator.locateNow('not-an-ip'), undefined)
  t.equal(resolver.resolveCalls, 0)
})

t.test('a resolver URL with a path prefix', async (t) => {
  const paths: string[] = []
  const url = await listen(t, createServer((req, res) => {
    paths.push(req.url ?? '')
    res.writeHead(404).end()
  }))
  const { locator } = makeLocator(t, `${url}/geo/`)
  t.same(await locator.locate('2a01:4f8::1'), { location: null, source: 'resolver' })
  t.same(paths, ['/geo/resolve?ip=2a01%3A4f8%3A%3A1'])
})

t.test('options are checked', async (t) => {
  const base = { cacheMax: 10, cacheTtlMs: 1000, breaker: { failureThreshold: 1, cooldownMs: 1 }, fallback }
  t.throws(() => createGeoLocator({ ...base, resolverUrl: 'ftp://x' }), TypeError)
  t.throws(() => createGeoLocator({ ...base, resolverUrl: 'not a url' }), TypeError)
  t.throws(() => createGeoLocator({ ...base, resolverUrl: 'http://x', timeoutMs: 0 }), TypeError)
  t.throws(() => createGeoLocator({ ...base, resolverUrl: 'http://x', cacheTtlMs: -1 }), TypeError)
})

t.test('new IPs located within one turn share one call (POST /resolve/batch), each answered as alone', async (t) => {
  const resolver = await startResolver(t)
  const { locator } = makeLocator(t, resolver.url)
  const ips = Array.from({ length: 100 }, (_, i) => (i % 10 === 9 ? `10.0.0.${i}` : `77.88.8.${i}`))
  const answers = await Promise.all(ips.map((ip) => locator.locate(ip)))
  t.equal(resolver.batchCalls, 2, '100 addresses: two calls of at most 64')
  t.equal(resolver.batchIps, 100)
  t.equal(resolver.resolveCalls, 0)
  t.ok(answers.every((a, i) => a.source === 'resolver' && (i % 10 === 9 ? a.location === null : a.location?.city === 'Moscow')), 'Moscow from the resolver, no data for private addresses')
  t.same((await locator.locate('77.88.8.0')).source, 'cache')
  t.equal(resolver.batchCalls, 2)
})

t.test('a failed batch: each of its IPs gets the fallback, and the breaker counts one failure', async (t) => {
  const resolver = await startResolver(t)
  const { locator } = makeLocator(t, resolver.url)
  resolver.failing = true
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => locator.locate(`77.88.8.${i}`)))
  t.ok(answers.every((a) => a.source === 'fallback' && a.location?.city === 'Kazan'))
  t.equal(resolver.batchCalls, 1)
  t.equal(locator.breakerState, 'closed', 'one failed call, not twenty')
})

t.test('a malformed batch answer: the fallback answers for each IP', async (t) => {
  const bodies = ['{"answers": [null]}', '{"answers": "x"}', '{"answers": [{"country_code": 7}, null]}']
  let body = ''
  const url = await listen(t, createServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end(body) }))
  const { locator } = makeLocator(t, url, { breaker: { failureThreshold: 100, cooldownMs: 1000 } })
  for (const [n, next] of bodies.entries()) {
    body = next
    const answers = await Promise.all([locator.locate(`77.88.8.${2 * n}`), locator.locate(`77.88.8.${2 * n + 1}`)])
    t.ok(answers.every((a) => a.source === 'fallback'), next)
  }
})

t.test('maxBatch 1: one call per IP, as before batches', async (t) => {
  const resolver = await startResolver(t)
  const { locator } = makeLocator(t, resolver.url, { maxBatch: 1 })
  await Promise.all(Array.from({ length: 5 }, (_, i) => locator.locate(`77.88.8.${i}`)))
  t.equal(resolver.resolveCalls, 5)
  t.equal(resolver.batchCalls, 0)
})
