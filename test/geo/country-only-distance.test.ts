// Routing quality over real addresses: a deterministic sample of public IPv4 addresses located
// by the bundled GeoLite2 City database (about half of them country-only answers), ten geo
// groups placed by coordinates only. The mean distance from each client's location to the
// group matchGeoGroup picks must stay within 1.15 × the mean distance to its nearest group.

import t from 'tap'
import { greatCircleKm } from '../../src/math/distance.js'
import { createGeoGroupIndex, matchGeoGroup } from '../../src/geo/match-geo-group.js'
import { defaultCityDatabasePath, openCityDatabase } from '../../src/geo/maxmind-lookup.js'
import type { GeoGroupDoc } from '../../src/store/documents.js'

const BUDGET = 1.15
const SAMPLE = 3000

function group (id: string, lat: number, lon: number, isDefault = false): GeoGroupDoc {
  return {
    _id: id,
    name: id,
    coordinates: { lat, lon },
    match: { countries: [], regions: [], cities: [], cidrs: [] },
    fallback: { groups: [], to_closest: true, limit: 2 },
    default: isDefault
  }
}

const groups = [
  group('london', 51.51, -0.13, true),
  group('frankfurt', 50.11, 8.68),
  group('moscow', 55.75, 37.62),
  group('ashburn', 39.04, -77.49),
  group('san-jose', 37.34, -121.89),
  group('sao-paulo', -23.55, -46.63),
  group('singapore', 1.35, 103.82),
  group('tokyo', 35.68, 139.69),
  group('sydney', -33.87, 151.21),
  group('mumbai', 19.08, 72.88)
]

/** A deterministic stream of public-looking IPv4 addresses (an LCG; the database says which are real). */
function * addresses (seed: number): Generator<string> {
  let state = seed >>> 0
  for (;;) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    const a = state
    yield `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`
  }
}

t.test('mean client→group distance over a GeoLite2 sample stays within 1.15 × the nearest group\'s', async (t) => {
  const city = await openCityDatabase(defaultCityDatabasePath())
  t.teardown(() => city.close())
  const index = createGeoGroupIndex(groups)

  let chosenKm = 0
  let nearestKm = 0
  let clients = 0
  let countryOnly = 0
  let reachedNearest = 0
  const countries = new Set<string>()
  const rules = new Map<string, number>()
  let tried = 0
  for (const ip of addresses(20261125)) {
    if (clients >= SAMPLE || ++tried > SAMPLE * 20) break
    const location = city.lookup(ip)
    if (location?.coordinates == null || location.country_code === null) continue
    const [lat, lon] = location.coordinates
    const match = matchGeoGroup(index, ip, location)
    const chosen = groups.find((g) => g._id === match.group) as GeoGroupDoc
    const distances = groups.map((g) => greatCircleKm(lat, lon, g.coordinates.lat, g.coordinates.lon))
    const best = Math.min(...distances)
    const km = greatCircleKm(lat, lon, chosen.coordinates.lat, chosen.coordinates.lon)
    chosenKm += km
    nearestKm += best
    if (km <= best) reachedNearest++
    clients++
    if (location.country_only === true) countryOnly++
    countries.add(location.country_code)
    rules.set(match.rule, (rules.get(match.rule) ?? 0) + 1)
  }

  const ratio = chosenKm / nearestKm
  t.comment(`sample: ${clients} addresses, ${countries.size} countries, ${countryOnly} country-only (${(100 * countryOnly / clients).toFixed(1)} %)`)
  t.comment(`rules: ${[...rules].map(([rule, n]) => `${rule} ${n}`).join(', ')}`)
  t.comment(`mean client→chosen group ${(chosenKm / clients).toFixed(0)} km, nearest group ${(nearestKm / clients).toFixed(0)} km: ratio ${ratio.toFixed(3)} (budget ${BUDGET}); nearest group reached by ${(100 * reachedNearest / clients).toFixed(1)} %`)
  t.ok(clients >= 1000, `at least 1,000 located addresses (${clients})`)
  t.ok(countries.size >= 50, `from at least 50 countries (${countries.size})`)
  t.ok(countryOnly >= clients / 4, 'the sample holds country-only answers in a realistic share')
  t.ok(ratio <= BUDGET, `mean distance ratio ${ratio.toFixed(3)} ≤ ${BUDGET}`)
})
