// The resolver's provider chain: the City and ASN databases (generated fixtures) and an HTTP
// provider speaking ip-api's JSON (a local server), asked in the configured order.

import t, { type Test } from 'tap'
import { request } from 'undici'
import { createIpApiProvider, type IpApiProvider } from '../../src/resolver/ip-api-provider.js'
import { openAsnDatabase, openCityDatabase } from '../../src/geo/maxmind-lookup.js'
import { createProviderChain, locationRank, SKIPPED } from '../../src/resolver/provider-chain.js'
import { resolverApp } from '../../src/resolver/app.js'
import { buildApp } from '../../src/server.js'
import { asnFixture, cityFixture } from '../fixtures/mmdb/paths.js'
import { startIpApiFixture, type IpApiFixture } from './ip-api-fixture.js'

interface Started { base: string, server: IpApiFixture, ipApi: IpApiProvider, advance: (ms: number) => void }

async function start (t: Test, order?: string[], timeoutMs = 2000): Promise<Started> {
  let at = 1_000_000
  const now = (): number => at
  const server = await startIpApiFixture(t)
  const city = await openCityDatabase(cityFixture)
  const asn = await openAsnDatabase(asnFixture)
  const ipApi = createIpApiProvider({ url: server.url, timeoutMs, now, breaker: { failureThreshold: 5, cooldownMs: 1000 } })
  const app = await buildApp(resolverApp, { databases: { city, asn }, extraProviders: [ipApi], providerOrder: order, now, signedCalls: false })
  t.teardown(async () => { await app.close(); await ipApi.close(); city.close(); asn.close() })
  return { base: await app.listen({ host: '127.0.0.1', port: 0 }), server, ipApi, advance: (ms) => { at += ms } }
}

async function resolve (base: string, ip: string): Promise<{ status: number, body: any }> {
  const res = await request(`${base}/resolve?ip=${ip}`)
  return { status: res.statusCode, body: await res.body.json() }
}

t.test('a city-level answer from the databases: ip-api is not asked', async (t) => {
  const { base, server } = await start(t)
  const moscow = await resolve(base, '77.88.8.8')
  t.match(moscow.body, { city: 'Moscow', asn: 13238, org: 'YANDEX LLC' })
  t.same(server.asked, [])
})

t.test('a country-only database answer: ip-api\'s city wins; unknown to the database: ip-api answers', async (t) => {
  const { base, server } = await start(t)
  const kz = await resolve(base, '2.72.0.1')
  t.same(kz.body, { country_code: 'KZ', region_iso: 'KZ-75', city: 'Almaty', coordinates: [43.25, 76.9167], country_only: false, asn: 9198, org: 'Kazakhtelecom' })
  const google = await resolve(base, '8.8.8.8')
  t.match(google.body, { country_code: 'US', city: 'Ashburn', asn: 15169 })
  t.same(server.asked, ['2.72.0.1', '8.8.8.8'])
  const quad9 = await resolve(base, '9.9.9.9')
  t.match(quad9.body, { country_code: 'CH', country_only: true }, 'only a partial answer anywhere: the best one')
})

t.test('ip-api slow, failing or rate-limited: the best partial answer, cached only briefly', async (t) => {
  for (const mode of ['slow', 'error', 'rate-limited'] as const) {
    // Short enough for the slow server to miss it, long enough for a loaded machine to answer.
    const { base, server, advance } = await start(t, undefined, mode === 'slow' ? 800 : 2000)
    server.slowMs = 20_000
    server.mode = mode
    const kz = await resolve(base, '2.72.0.1')
    t.same(kz.body, { country_code: 'KZ', region_iso: null, city: null, coordinates: [48.0196, 66.9237], country_only: true }, `${mode}: the database's country-only answer`)
    t.equal((await resolve(base, '8.8.8.8')).status, 404, `${mode}: unknown to the database and ip-api away: 404`)
    server.mode = 'normal'
    advance(1000)
    t.match((await resolve(base, '2.72.0.1')).body, { country_only: true }, `${mode}: still cached a while`)
    advance(60_000)
    t.match((await resolve(base, '2.72.0.1')).body, { city: 'Almaty' }, `${mode}: asked again within a minute, once ip-api may be back`)
  }
})

t.test('the configured order decides who is asked first', async (t) => {
  const { base, server } = await start(t, ['ip-api', 'maxmind-city'])
  const moscow = await resolve(base, '77.88.8.8')
  t.same(server.asked, ['77.88.8.8'], 'ip-api first')
  t.match(moscow.body, { city: 'Moscow' }, 'ip-api has no data for it: the City database answers')
  t.notOk('asn' in moscow.body, 'the ASN database is left out of this order')
  const google = await resolve(base, '8.8.8.8')
  t.match(google.body, { city: 'Ashburn' })
})

t.test('the chain on its own: ranks, skips and throwing providers', async (t) => {
  t.equal(locationRank(null), 0)
  t.equal(locationRank({ country_code: 'NL', region_iso: null, city: null, coordinates: null }), 1)
  t.equal(locationRank({ country_code: 'NL', region_iso: null, city: null, coordinates: [52, 5], country_only: true }), 2)
  t.equal(locationRank({ country_code: 'NL', region_iso: 'NL-NH', city: null, coordinates: [52, 5] }), 3)
  t.equal(locationRank({ country_code: 'NL', region_iso: 'NL-NH', city: 'Amsterdam', coordinates: [52, 5] }), 4)
  const errors: string[] = []
  const chain = createProviderChain([
    { name: 'broken', locate: () => { throw new Error('down') } },
    { name: 'away', locate: () => SKIPPED },
    { name: 'country', locate: () => ({ location: { country_code: 'NL', region_iso: null, city: null, coordinates: null } }) }
  ], (name) => errors.push(name))
  t.same(await chain.locate('1.2.3.4'), {
    location: { country_code: 'NL', region_iso: null, city: null, coordinates: null }, asn: null, org: null, provider: 'country', complete: false
  })
  t.same(errors, ['broken'])
  t.throws(() => createProviderChain([]), TypeError)
})
