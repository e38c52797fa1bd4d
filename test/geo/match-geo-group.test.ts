import t from 'tap'
import type { IPLocation } from '../../src/geo/location.js'
import { createGeoGroupIndex, matchGeoGroup, nearestGroups } from '../../src/geo/match-geo-group.js'
import { openCityDatabase } from '../../src/geo/maxmind-lookup.js'
import type { GeoGroupDoc } from '../../src/store/documents.js'
import { demoGeoGroups } from '../../src/demo/demo-data.js'
import { cityFixture } from '../fixtures/mmdb/paths.js'

function group (id: string, lat: number, lon: number, match: Partial<GeoGroupDoc['match']>, isDefault = false): GeoGroupDoc {
  return {
    _id: id,
    name: id,
    coordinates: { lat, lon },
    match: { countries: [], regions: [], cities: [], cidrs: [], ...match },
    fallback: { groups: [], to_closest: true, limit: 2 },
    default: isDefault
  }
}

const groups = [
  group('office', 55.76, 37.61, { cidrs: ['77.88.8.0/28', '2a01:4f8:1::/48'] }),
  group('moscow', 55.75, 37.62, { cities: ['RU:Moscow'] }),
  group('spb', 59.93, 30.33, { regions: ['ru-spe', 'RU-MOW'] }),
  group('russia', 55.0, 50.0, { countries: ['RU', 'kz'] }),
  group('europe', 51.51, -0.13, { countries: ['GB', 'DE'] }, true),
  group('americas', 39.04, -77.49, { countries: ['US', 'CA'] }),
  group('asia', 1.35, 103.82, {})
]

t.test('every precedence rule, with locations from the fixture database', async (t) => {
  const city = await openCityDatabase(cityFixture)
  t.teardown(() => city.close())
  const index = createGeoGroupIndex(groups)
  const cases: Array<[ip: string, group: string, rule: string, why: string]> = [
    ['77.88.8.8', 'office', 'cidr', 'a CIDR beats the city rule for Moscow'],
    ['2a01:4f8:1::5', 'office', 'cidr', 'an IPv6 CIDR beats the country rule for DE'],
    ['::ffff:77.88.8.9', 'office', 'cidr', 'an IPv4-mapped address matches IPv4 CIDRs'],
    ['77.88.8.200', 'moscow', 'city', 'the city beats the region rule RU-MOW and the country rule RU'],
    ['95.161.1.1', 'spb', 'region', 'the region beats the country rule RU'],
    ['2.72.0.1', 'russia', 'country', 'a country-only location still matches its country (rule written in lower case)'],
    ['81.2.69.142', 'europe', 'country', 'GB'],
    ['2a01:4f8::1', 'europe', 'country', 'an IPv6 address in Berlin'],
    ['24.48.0.1', 'americas', 'country', 'the country beats the nearest group'],
    ['1.0.16.1', 'asia', 'nearest', 'Tokyo has no rule; Singapore is nearest'],
    ['200.147.67.142', 'americas', 'nearest', 'São Paulo has no rule; Ashburn is nearer than London'],
    ['14.139.1.1', 'asia', 'nearest', 'India is country-only with no rule and no group inside: the group nearest its centre'],
    ['5.45.1.1', 'europe', 'default', 'no coordinates'],
    ['8.8.8.8', 'europe', 'default', 'unknown to the database'],
    ['10.0.0.1', 'europe', 'default', 'private']
  ]
  for (const [ip, expected, rule, why] of cases) {
    t.same(matchGeoGroup(index, ip, city.lookup(ip)), { group: expected, rule }, `${ip}: ${why}`)
  }
})

t.test('city rules: case-insensitive, optionally qualified by country', async (t) => {
  const index = createGeoGroupIndex([
    group('idaho', 46.73, -117.0, { cities: ['US:moscow'] }),
    group('anywhere-london', 51.51, -0.13, { cities: ['LONDON'] }, true),
    group('moscow', 55.75, 37.62, { cities: ['ru: Moscow'] })
  ])
  const at = (country: string, city: string): IPLocation => ({ country_code: country, region_iso: null, city, coordinates: [0, 0] })
  t.same(matchGeoGroup(index, '1.1.1.1', at('US', 'Moscow')), { group: 'idaho', rule: 'city' })
  t.same(matchGeoGroup(index, '1.1.1.1', at('RU', 'moscow')), { group: 'moscow', rule: 'city' })
  t.same(matchGeoGroup(index, '1.1.1.1', at('CA', 'London')), { group: 'anywhere-london', rule: 'city' }, 'a bare rule matches in any country')
  t.same(matchGeoGroup(index, '1.1.1.1', at('GB', 'london')), { group: 'anywhere-london', rule: 'city' })
  t.same(matchGeoGroup(index, '1.1.1.1', at('DE', 'Moscow')).rule, 'nearest', 'a qualified rule does not match another country')
})

t.test('no location: CIDR rules or the default', async (t) => {
  const index = createGeoGroupIndex(groups)
  t.same(matchGeoGroup(index, '77.88.8.1', null), { group: 'office', rule: 'cidr' })
  t.same(matchGeoGroup(index, '203.0.113.1', null), { group: 'europe', rule: 'default' })
})

function countryOnly (country: string, lat: number, lon: number, asn?: number): IPLocation {
  return { country_code: country, region_iso: null, city: null, coordinates: [lat, lon], country_only: true, ...(asn !== undefined && { asn }) }
}

t.test('a country-only answer goes to the group nearest the country\'s point', async (t) => {
  const index = createGeoGroupIndex(groups)
  t.same(matchGeoGroup(index, '1.2.3.4', countryOnly('TH', 15.5, 101.0)), { group: 'asia', rule: 'nearest' }, 'Thailand: Singapore')
  t.same(matchGeoGroup(index, '1.2.3.4', countryOnly('MX', 19.44, -99.01)), { group: 'americas', rule: 'nearest' }, 'Mexico: Ashburn')
})

t.test('a large country\'s country-only clients are shared by the groups inside it, by network', async (t) => {
  const index = createGeoGroupIndex([
    group('london', 51.51, -0.13, {}, true),
    group('ashburn', 39.04, -77.49, {}),
    group('san-jose', 37.34, -121.89, {}),
    group('dallas', 32.78, -96.8, {}),
    group('toronto', 43.65, -79.38, {}),
    group('boston', 42.36, -71.06, {})
  ])
  const kansas = countryOnly('US', 37.751, -97.822)
  const counts = new Map<string, number>()
  for (let i = 0; i < 400; i++) {
    const ip = `${20 + (i % 50)}.${i}.${(i * 7) % 256}.1`
    const match = matchGeoGroup(index, ip, kansas)
    t.equal(match.rule, 'large_country')
    counts.set(match.group, (counts.get(match.group) ?? 0) + 1)
    t.same(matchGeoGroup(index, ip.replace(/\.1$/, '.200'), kansas), match, 'one /24 meets one group')
  }
  t.same([...counts.keys()].sort(), ['ashburn', 'boston', 'dallas', 'san-jose'], 'only the groups inside the US, Toronto is not')
  for (const [id, n] of counts) t.ok(n > 50, `${id} takes a share (${n} of 400)`)
  const v6 = matchGeoGroup(index, '2001:db8:1:2::1', kansas)
  t.equal(v6.rule, 'large_country')
  t.same(matchGeoGroup(index, '2001:db8:1:ffff::9', kansas), v6, 'one IPv6 /48 meets one group')
  t.same(matchGeoGroup(index, '1.2.3.4', { ...kansas, country_only: false, city: 'Wichita' }), { group: 'dallas', rule: 'nearest' },
    'an answer with a city is located by distance')

  const noneInside = createGeoGroupIndex([group('london', 51.51, -0.13, {}, true), group('tokyo', 35.68, 139.69, {})])
  t.same(matchGeoGroup(noneInside, '1.2.3.4', countryOnly('AU', -33.494, 143.21)), { group: 'tokyo', rule: 'nearest' },
    'a large country with no group inside: the group nearest its point')
})

t.test('ASN rules: after CIDRs, before cities', async (t) => {
  const index = createGeoGroupIndex([
    group('office', 55.76, 37.61, { cidrs: ['77.88.8.0/28'] }),
    group('peering', 50.11, 8.68, { asns: [13238, 20712] }),
    group('moscow', 55.75, 37.62, { cities: ['Moscow'] }, true)
  ])
  const moscow: IPLocation = { country_code: 'RU', region_iso: 'RU-MOW', city: 'Moscow', coordinates: [55.75, 37.62], asn: 13238 }
  t.same(matchGeoGroup(index, '77.88.8.8', moscow), { group: 'office', rule: 'cidr' }, 'a CIDR beats the ASN')
  t.same(matchGeoGroup(index, '77.88.8.200', moscow), { group: 'peering', rule: 'asn' }, 'the ASN beats the city')
  t.same(matchGeoGroup(index, '77.88.8.200', { ...moscow, asn: 1 }), { group: 'moscow', rule: 'city' }, 'another ASN: the city')
  t.same(matchGeoGroup(index, '77.88.8.200', { ...moscow, asn: null }), { group: 'moscow', rule: 'city' }, 'no ASN known')
  t.throws(() => createGeoGroupIndex([group('bad', 0, 0, { asns: [-1] })]), { name: 'TypeError', message: /geo group "bad": ASN -1/ })
})

t.test('with no group marked default, the first one is', async (t) => {
  const index = createGeoGroupIndex(groups.map((g) => ({ ...g, default: false })))
  t.equal(index.defaultGroup, 'office')
  t.same(matchGeoGroup(index, '10.0.0.1', null), { group: 'office', rule: 'default' })
})

t.test('the first group to claim a country keeps it', async (t) => {
  const index = createGeoGroupIndex([group('a', 0, 0, { countries: ['FR'] }), group('b', 0, 0, { countries: ['FR'] })])
  const paris: IPLocation = { country_code: 'FR', region_iso: null, city: 'Paris', coordinates: [48.85, 2.35] }
  t.same(matchGeoGroup(index, '1.1.1.1', paris), { group: 'a', rule: 'country' })
})

t.test('nearestGroups orders the other groups by distance', async (t) => {
  const index = createGeoGroupIndex(demoGeoGroups)
  t.same(nearestGroups(index, 'ru-central', 5), ['eu-west', 'us-east'])
  t.same(nearestGroups(index, 'us-east', 1), ['eu-west'])
  t.same(nearestGroups(index, 'eu-west', 2), ['ru-central', 'us-east'])
  t.same(nearestGroups(index, 'eu-west', 0), [])
  t.same(nearestGroups(index, 'nowhere', 2), [])
  t.equal(nearestGroups(index, 'ru-central', 2), nearestGroups(index, 'ru-central', 2), 'one shared array per limit')
})

t.test('bad groups are refused with a TypeError naming the group', async (t) => {
  t.throws(() => createGeoGroupIndex([]), TypeError)
  t.throws(() => createGeoGroupIndex([group('a', 0, 0, {}), group('a', 1, 1, {})]), { name: 'TypeError', message: /"a" is listed twice/ })
  t.throws(() => createGeoGroupIndex([group('a', 0, 0, {}), group('b', 0, 0, { cidrs: ['10.0.0.0/8', '300.0.0.0/8'] })]),
    { name: 'TypeError', message: /geo group "b": invalid CIDR "300\.0\.0\.0\/8"/ })
  t.throws(() => createGeoGroupIndex([group('c', 91, 0, {})]), { name: 'TypeError', message: /geo group "c": coordinates/ })
})
