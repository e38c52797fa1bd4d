import { copyFile, mkdtemp, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { request } from 'undici'
import { openAsnDatabase, openCityDatabase } from '../../src/geo/maxmind-lookup.js'
import { resolverApp } from '../../src/resolver/app.js'
import { buildApp } from '../../src/server.js'
import { asnFixture, cityFixture, cityV2Fixture } from '../fixtures/mmdb/paths.js'

async function get (base: string, path: string): Promise<{ status: number, type: string, body: any }> {
  const res = await request(base + path)
  const text = await res.body.text()
  const type = String(res.headers['content-type'])
  return { status: res.statusCode, type, body: type.includes('json') ? JSON.parse(text) : text }
}

async function startApp (t: Test, cityPath = cityFixture, watch = false): Promise<string> {
  const city = await openCityDatabase(cityPath, { watch, watchIntervalMs: 50 })
  t.teardown(() => city.close())
  const asn = await openAsnDatabase(asnFixture)
  t.teardown(() => asn.close())
  const app = await buildApp(resolverApp, { databases: { city, asn }, signedCalls: false })
  t.teardown(() => app.close())
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  return address
}

t.test('GET /resolve answers a location, with the network when an ASN database is given', async (t) => {
  const base = await startApp(t)
  const moscow = await get(base, '/resolve?ip=77.88.8.8')
  t.equal(moscow.status, 200)
  t.match(moscow.type, /application\/json/)
  t.same(moscow.body, {
    country_code: 'RU',
    region_iso: 'RU-MOW',
    city: 'Moscow',
    coordinates: [55.7522, 37.6156],
    country_only: false,
    asn: 13238,
    org: 'YANDEX LLC'
  })
  const berlin = await get(base, `/resolve?ip=${encodeURIComponent('2a01:4f8::1')}`)
  t.equal(berlin.status, 200)
  t.match(berlin.body, { country_code: 'DE', city: 'Berlin', asn: 24940 })
  const newYork = await get(base, '/resolve?ip=12.1.2.3')
  t.same(newYork.body, {
    country_code: 'US', region_iso: 'US-NY', city: 'New York', coordinates: [40.7128, -74.006], country_only: false
  }, 'no asn or org when the ASN database has no record')
  const kazakhstan = await get(base, '/resolve?ip=2.72.0.1')
  t.same(kazakhstan.body, { country_code: 'KZ', region_iso: null, city: null, coordinates: [48.0196, 66.9237], country_only: true })
})

t.test('400 GW_BAD_REQUEST for a malformed, missing or too long ip', async (t) => {
  const base = await startApp(t)
  for (const path of ['/resolve?ip=not-an-ip', '/resolve?ip=1.2.3.256', '/resolve?ip=', '/resolve', `/resolve?ip=${'1'.repeat(46)}`]) {
    const res = await get(base, path)
    t.equal(res.status, 400, path)
    t.equal(res.body.error?.code, 'GW_BAD_REQUEST', path)
    t.type(res.body.error?.message, 'string')
  }
})

t.test('404 GW_NOT_FOUND for private and unknown addresses', async (t) => {
  const base = await startApp(t)
  for (const ip of ['10.0.0.1', '::1', '192.168.0.10', '8.8.8.8']) {
    const res = await get(base, `/resolve?ip=${encodeURIComponent(ip)}`)
    t.equal(res.status, 404, ip)
    t.same(res.body, { error: { code: 'GW_NOT_FOUND', message: 'no location data for this address' } }, ip)
  }
  const route = await get(base, '/nowhere')
  t.equal(route.status, 404)
  t.equal(route.body.error.code, 'GW_NOT_FOUND')
})

t.test('GET /healthz', async (t) => {
  const base = await startApp(t)
  const res = await get(base, '/healthz')
  t.equal(res.status, 200)
  t.same(res.body, { status: 'ok' })
})

t.test('GET /metrics counts lookups by result and cache outcome', async (t) => {
  const base = await startApp(t)
  await get(base, '/resolve?ip=77.88.8.8')
  await get(base, '/resolve?ip=77.88.8.8')
  await get(base, '/resolve?ip=10.0.0.1')
  await get(base, '/resolve?ip=junk')
  await get(base, '/resolve')
  const res = await get(base, '/metrics')
  t.equal(res.status, 200)
  t.match(res.type, /text\/plain/)
  const text = res.body as string
  t.match(text, /geogate_resolver_lookups_total\{result="found"\} 2\n/)
  t.match(text, /geogate_resolver_lookups_total\{result="not_found"\} 1\n/)
  t.match(text, /geogate_resolver_lookups_total\{result="bad_request"\} 2\n/)
  t.match(text, /geogate_resolver_cache_lookups_total\{outcome="hit"\} 1\n/)
  t.match(text, /geogate_resolver_cache_lookups_total\{outcome="miss"\} 2\n/)
  t.match(text, /geogate_resolver_cache_entries 2\n/)
  t.notMatch(text, /process_cpu/, 'its own registry, not the global one')
})

t.test('two apps keep separate metrics', async (t) => {
  const a = await startApp(t)
  const b = await startApp(t)
  await get(a, '/resolve?ip=77.88.8.8')
  t.match((await get(b, '/metrics')).body, /geogate_resolver_lookups_total\{result="found"\} 0\n/)
})

t.test('a database reload empties the answer cache', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'geogate-resolver-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const path = join(dir, 'city.mmdb')
  await copyFile(cityFixture, path)
  const base = await startApp(t, path, true)
  t.equal((await get(base, '/resolve?ip=77.88.8.8')).body.city, 'Moscow')
  t.equal((await get(base, '/resolve?ip=77.88.8.8')).body.city, 'Moscow', 'now cached')

  await copyFile(cityV2Fixture, join(dir, 'next.mmdb'))
  await rename(join(dir, 'next.mmdb'), path)
  const deadline = Date.now() + 5000
  let city = 'Moscow'
  while (city === 'Moscow' && Date.now() < deadline) {
    const res = await get(base, '/resolve?ip=77.88.8.8')
    t.equal(res.status, 200)
    city = res.body.city
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  t.equal(city, 'Kazan', 'the new data answers, not the cached old answer')
  t.match((await get(base, '/metrics')).body, /geogate_resolver_reloads_total\{database="city",result="ok"\} 1\n/)
})

async function resolveBatch (base: string, body: unknown): Promise<{ status: number, body: any }> {
  const res = await request(`${base}/resolve/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body)
  })
  return { status: res.statusCode, body: await res.body.json() }
}

t.test('POST /resolve/batch: one answer per address in their order, null where GET /resolve has none', async (t) => {
  const base = await startApp(t)
  const ips = ['77.88.8.8', '10.0.0.1', '2a01:4f8::1', 'not-an-ip', '77.88.8.8', '2.72.0.1', '8.8.8.8']
  const res = await resolveBatch(base, { ips })
  t.equal(res.status, 200)
  const alone = await Promise.all(ips.map(async (ip) => {
    const one = await get(base, `/resolve?ip=${encodeURIComponent(ip)}`)
    return one.status === 200 ? one.body : null
  }))
  t.same(res.body, { answers: alone })
  t.same(res.body.answers.map((a: unknown) => a !== null), [true, false, true, false, true, true, false])
})

t.test('POST /resolve/batch refuses what its schema does not allow', async (t) => {
  const base = await startApp(t)
  t.equal((await resolveBatch(base, { ips: Array.from({ length: 128 }, (_, i) => `77.88.8.${i}`) })).status, 200, '128 addresses')
  const refused: Array<[unknown, string]> = [
    [{ ips: [] }, 'no address'],
    [{ ips: Array.from({ length: 129 }, (_, i) => `77.88.8.${i}`) }, 'more than 128'],
    [{ ips: ['1'.repeat(46)] }, 'too long'],
    [{ ips: [''] }, 'empty'],
    [{ ips: [7] }, 'not a string'],
    [{ ips: ['77.88.8.8'], extra: true }, 'nothing but the addresses'],
    [{}, 'no list'],
    ['[', 'not JSON']
  ]
  for (const [body, why] of refused) {
    const res = await resolveBatch(base, body)
    t.equal(res.status, 400, why)
    t.equal(res.body.error?.code, 'GW_BAD_REQUEST', why)
  }
})
