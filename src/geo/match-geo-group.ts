// Which geo group serves a client. Rules, strongest first: the group's CIDRs (longest prefix
// wins) > city > region > country > the nearest group by great-circle distance > the default
// group. The groups are compiled once into an index (maps and a CIDR trie) so that a match on
// the request path does a few map lookups and returns a shared, preallocated answer.
//
// Rule syntax in GeoGroupDoc.match:
//   countries  ISO 3166-1 alpha-2, any case: 'RU'
//   regions    ISO 3166-2 as MaxMind gives it, country first, any case: 'RU-MOW', 'US-NY'
//   cities     the English city name (MaxMind's city.names.en), any case: 'Moscow' matches a
//              Moscow in any country; 'RU:Moscow' (country code, colon, name) only in Russia.
//              A qualified rule wins over a bare one.
//   cidrs      IPv4 or IPv6 networks: '77.88.0.0/18', '2a02:6b8::/32'
// When several groups claim the same country, region, city or network, the first listed wins.

import type { GeoGroupDoc } from '../store/documents.js'
import { createCidrMatcher, type CidrMatcher } from './cidr.js'
import { greatCircleKm, placesByDistance } from './distance.js'
import type { IPLocation } from './location.js'

export type GeoRule = 'cidr' | 'city' | 'region' | 'country' | 'nearest' | 'default'

export interface GeoGroupMatch {
  readonly group: string
  readonly rule: GeoRule
}

interface GroupPoint {
  readonly id: string
  readonly lat: number
  readonly lon: number
  readonly nearest: GeoGroupMatch
}

export interface GeoGroupIndex {
  readonly groupIds: readonly string[]
  readonly defaultGroup: string
  readonly cidrs: CidrMatcher<GeoGroupMatch> | undefined
  readonly cities: ReadonlyMap<string, GeoGroupMatch>
  readonly qualifiedCities: ReadonlyMap<string, GeoGroupMatch>
  readonly regions: ReadonlyMap<string, GeoGroupMatch>
  readonly countries: ReadonlyMap<string, GeoGroupMatch>
  readonly points: readonly GroupPoint[]
  readonly defaultMatch: GeoGroupMatch
  /** Every other group by distance from each group, nearest first. */
  readonly byDistance: ReadonlyMap<string, readonly string[]>
}

const QUALIFIED_CITY = /^([A-Za-z]{2}):(.+)$/

function matchOf (group: string, rule: GeoRule): GeoGroupMatch {
  return Object.freeze({ group, rule })
}

function addFirst (map: Map<string, GeoGroupMatch>, key: string, match: GeoGroupMatch): void {
  if (key !== '' && !map.has(key)) map.set(key, match)
}

function validCoordinate (value: unknown, limit: number): boolean {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= limit
}

/** Compiles groups into an index for matchGeoGroup; throws a TypeError naming a bad group. */
export function createGeoGroupIndex (groups: readonly GeoGroupDoc[]): GeoGroupIndex {
  if (groups.length === 0) throw new TypeError('at least one geo group is required')
  const ids = new Set<string>()
  const cidrEntries: Array<[string, GeoGroupMatch]> = []
  const cities = new Map<string, GeoGroupMatch>()
  const qualifiedCities = new Map<string, GeoGroupMatch>()
  const regions = new Map<string, GeoGroupMatch>()
  const countries = new Map<string, GeoGroupMatch>()
  const points: GroupPoint[] = []

  for (const group of groups) {
    const id = group._id
    if (ids.has(id)) throw new TypeError(`geo group ${JSON.stringify(id)} is listed twice`)
    ids.add(id)
    const { lat, lon } = group.coordinates
    if (!validCoordinate(lat, 90) || !validCoordinate(lon, 180)) {
      throw new TypeError(`geo group ${JSON.stringify(id)}: coordinates must be {lat: -90…90, lon: -180…180}`)
    }
    points.push({ id, lat, lon, nearest: matchOf(id, 'nearest') })

    const cidrMatch = matchOf(id, 'cidr')
    const groupCidrs = group.match.cidrs.map((cidr): [string, GeoGroupMatch] => [cidr, cidrMatch])
    try {
      createCidrMatcher(groupCidrs) // only to name the group in the error
    } catch (err) {
      throw new TypeError(`geo group ${JSON.stringify(id)}: ${(err as Error).message}`)
    }
    cidrEntries.push(...groupCidrs)
    const cityMatch = matchOf(id, 'city')
    for (const rule of group.match.cities) {
      const qualified = QUALIFIED_CITY.exec(rule.trim())
      if (qualified !== null) {
        addFirst(qualifiedCities, `${(qualified[1] as string).toUpperCase()}:${(qualified[2] as string).trim().toLowerCase()}`, cityMatch)
      } else {
        addFirst(cities, rule.trim().toLowerCase(), cityMatch)
      }
    }
    const regionMatch = matchOf(id, 'region')
    for (const region of group.match.regions) addFirst(regions, region.trim().toUpperCase(), regionMatch)
    const countryMatch = matchOf(id, 'country')
    for (const country of group.match.countries) addFirst(countries, country.trim().toUpperCase(), countryMatch)
  }

  const cidrs = cidrEntries.length > 0 ? createCidrMatcher(cidrEntries) : undefined

  const defaultGroup = (groups.find((group) => group.default) ?? groups[0] as GeoGroupDoc)._id
  const byDistance = placesByDistance(points)

  return {
    groupIds: Object.freeze([...ids]),
    defaultGroup,
    cidrs,
    cities,
    qualifiedCities,
    regions,
    countries,
    points,
    defaultMatch: matchOf(defaultGroup, 'default'),
    byDistance
  }
}

function nearest (index: GeoGroupIndex, lat: number, lon: number): GeoGroupMatch {
  const { points } = index
  let best = points[0] as GroupPoint
  let bestKm = Infinity
  for (let i = 0; i < points.length; i++) {
    const point = points[i] as GroupPoint
    const km = greatCircleKm(lat, lon, point.lat, point.lon)
    if (km < bestKm) {
      bestKm = km
      best = point
    }
  }
  return best.nearest
}

/**
 * The group for a client at ip and location (null when unknown). The answer object is shared
 * between calls: do not modify it.
 */
export function matchGeoGroup (index: GeoGroupIndex, ip: string, location: IPLocation | null): GeoGroupMatch {
  if (index.cidrs !== undefined) {
    const byNetwork = index.cidrs.longestMatch(ip)
    if (byNetwork !== undefined) return byNetwork
  }
  if (location === null) return index.defaultMatch
  const { country_code: country, city } = location

  if (city !== null && (index.cities.size > 0 || index.qualifiedCities.size > 0)) {
    const name = city.toLowerCase()
    const byCity = (country !== null && index.qualifiedCities.size > 0
      ? index.qualifiedCities.get(`${country}:${name}`)
      : undefined) ?? index.cities.get(name)
    if (byCity !== undefined) return byCity
  }
  if (location.region_iso !== null && index.regions.size > 0) {
    const byRegion = index.regions.get(location.region_iso)
    if (byRegion !== undefined) return byRegion
  }
  if (country !== null) {
    const byCountry = index.countries.get(country)
    if (byCountry !== undefined) return byCountry
  }
  // A country-only answer's coordinates are the country's centre, not the client: distance
  // from there would send a whole country to whichever group is nearest its middle.
  if (location.coordinates !== null && location.country_only !== true) {
    return nearest(index, location.coordinates[0], location.coordinates[1])
  }
  return index.defaultMatch
}

const limited = new WeakMap<readonly string[], Map<number, string[]>>()

/**
 * Up to limit other groups ordered by distance from fromGroupId's coordinates, nearest first;
 * empty for an unknown group. The array is shared between calls: do not modify it.
 */
export function nearestGroups (index: GeoGroupIndex, fromGroupId: string, limit: number): string[] {
  const all = index.byDistance.get(fromGroupId)
  if (all === undefined || limit <= 0) return []
  let byLimit = limited.get(all)
  if (byLimit === undefined) {
    byLimit = new Map()
    limited.set(all, byLimit)
  }
  let list = byLimit.get(limit)
  if (list === undefined) {
    list = Object.freeze(all.slice(0, limit)) as string[]
    byLimit.set(limit, list)
  }
  return list
}
