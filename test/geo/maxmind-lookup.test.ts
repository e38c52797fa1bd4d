import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import t from 'tap'
import { createGeoGroupIndex, matchGeoGroup } from '../../src/geo/match-geo-group.js'
import { defaultCityDatabasePath, openAsnDatabase, openCityDatabase } from '../../src/geo/maxmind-lookup.js'
import { demoGeoGroups } from '../../src/demo/demo-data.js'
import { asnFixture, cityFixture } from '../fixtures/mmdb/paths.js'

t.test('maps the fixture City records to IPLocation', async (t) => {
  const city = await openCityDatabase(cityFixture)
  t.teardown(() => city.close())
  t.same(city.lookup('77.88.8.8'), {
    country_code: 'RU', region_iso: 'RU-MOW', city: 'Moscow', coordinates: [55.7522, 37.6156], country_only: false
  })
  t.same(city.lookup('95.161.10.20'), {
    country_code: 'RU', region_iso: 'RU-SPE', city: 'Saint Petersburg', coordinates: [59.8944, 30.2642], country_only: false
  })
  t.same(city.lookup('81.2.69.142'), {
    country_code: 'GB', region_iso: 'GB-ENG', city: 'London', coordinates: [51.5142, -0.0931], country_only: false
  })
  t.same(city.lookup('2a01:4f8:1234::1'), {
    country_code: 'DE', region_iso: 'DE-BE', city: 'Berlin', coordinates: [52.5244, 13.4105], country_only: false
  })
  t.same(city.lookup('200.147.67.142'), {
    country_code: 'BR', region_iso: 'BR-SP', city: 'São Paulo', coordinates: [-23.5475, -46.6361], country_only: false
  })
  t.same(city.lookup('1.0.16.1'), {
    country_code: 'JP', region_iso: 'JP-13', city: 'Tokyo', coordinates: [35.6895, 139.6917], country_only: false
  })
  t.match(city.lookup('12.34.56.78'), { country_code: 'US', region_iso: 'US-NY', city: 'New York' })
  t.match(city.lookup('24.48.0.1'), { country_code: 'CA', region_iso: 'CA-QC', city: 'Montreal' })
})

t.test('a record with no city and no subdivision is country_only', async (t) => {
  const city = await openCityDatabase(cityFixture)
  t.teardown(() => city.close())
  t.same(city.lookup('2.72.0.1'), {
    country_code: 'KZ', region_iso: null, city: null, coordinates: [48.0196, 66.9237], country_only: true
  })
  t.same(city.lookup('14.139.1.1'), {
    country_code: 'IN', region_iso: null, city: null, coordinates: [21, 78], country_only: true
  })
  t.same(city.lookup('5.45.1.1'), {
    country_code: 'NL', region_iso: null, city: null, coordinates: null, country_only: true
  }, 'the registered country stands in for a missing country')
})

t.test('private, reserved, unknown and malformed addresses answer null', async (t) => {
  const city = await openCityDatabase(cityFixture)
  t.teardown(() => city.close())
  for (const ip of ['10.0.0.1', '192.168.1.1', '127.0.0.1', '::1', 'fe80::1', 'fc00::1', '8.8.8.8', '2001:4860::1', 'not-an-ip', '', '1.2.3']) {
    t.equal(city.lookup(ip), null, ip)
  }
})

t.test('an IPv4-mapped address answers as its IPv4 address', async (t) => {
  const city = await openCityDatabase(cityFixture)
  t.teardown(() => city.close())
  t.equal(city.lookup('::ffff:77.88.8.8')?.city, 'Moscow')
})

t.test('one network answers one shared, frozen object', async (t) => {
  const city = await openCityDatabase(cityFixture)
  t.teardown(() => city.close())
  const a = city.lookup('77.88.8.1')
  t.equal(city.lookup('77.88.8.2'), a)
  t.ok(Object.isFrozen(a))
})

t.test('reads a gzipped database, and rejects a file that is not one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'geogate-mmdb-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const gz = join(dir, 'city.mmdb.gz')
  await writeFile(gz, gzipSync(await readFile(cityFixture)))
  const city = await openCityDatabase(gz)
  t.teardown(() => city.close())
  t.equal(city.lookup('81.2.69.142')?.city, 'London')

  const junk = join(dir, 'junk.mmdb')
  await writeFile(junk, 'not a database')
  await t.rejects(openCityDatabase(junk))
  await t.rejects(openCityDatabase(join(dir, 'missing.mmdb')), { code: 'ENOENT' })
})

t.test('the ASN database', async (t) => {
  const asn = await openAsnDatabase(asnFixture)
  t.teardown(() => asn.close())
  t.same(asn.lookup('77.88.8.8'), { asn: 13238, org: 'YANDEX LLC' })
  t.same(asn.lookup('2a01:4f8::1'), { asn: 24940, org: 'Hetzner Online GmbH' })
  t.equal(asn.lookup('12.0.0.1'), null)
  t.equal(asn.lookup('10.0.0.1'), null)
})

t.test('the bundled GeoLite2 City with the demo geo groups', async (t) => {
  const path = defaultCityDatabasePath()
  t.match(path, /GeoLite2-City\.mmdb\.gz$/)
  t.ok(existsSync(path))
  const city = await openCityDatabase(path)
  t.teardown(() => city.close())
  const index = createGeoGroupIndex(demoGeoGroups)

  // Each address was checked against the bundled database (geolite2-city 1.0.101); the first
  // assertion of each says which record the case relies on, so a database update that moves
  // an address fails with a clear message.
  const cases = [
    { ip: '177.21.63.10', record: { country_code: 'BR', city: 'Catanduva', country_only: false }, group: 'us-east', rule: 'nearest' },
    { ip: '60.42.126.10', record: { country_code: 'JP', city: 'Kyoto', country_only: false }, group: 'ru-central', rule: 'nearest' },
    { ip: '24.48.0.1', record: { country_code: 'CA', city: 'Montreal' }, group: 'us-east', rule: 'country' },
    { ip: '2a00:1450:4001::1', record: { country_code: 'DE', city: 'Frankfurt am Main' }, group: 'eu-west', rule: 'country' },
    { ip: '::ffff:24.48.0.1', record: { country_code: 'CA' }, group: 'us-east', rule: 'country' },
    // A Brazilian address MaxMind knows only by country: Brazil's point is Rio de Janeiro, not
    // a geographic centre, so the group nearest it serves.
    { ip: '200.147.67.142', record: { country_code: 'BR', city: null, country_only: true, coordinates: [-22.8305, -43.2192] }, group: 'us-east', rule: 'nearest' },
    { ip: '77.88.8.8', record: { country_code: 'RU' }, group: 'ru-central', rule: 'country' }
  ] as const
  for (const { ip, record, group, rule } of cases) {
    const location = city.lookup(ip)
    t.match(location, record, `${ip} is ${JSON.stringify(record)} in GeoLite2`)
    t.same(matchGeoGroup(index, ip, location), { group, rule }, `${ip} → ${group} by ${rule}`)
  }
  t.equal(city.lookup('10.1.2.3'), null)
  t.equal(city.lookup('::1'), null)
})
