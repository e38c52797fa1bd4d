// Which geo group serves a client. Rules, strongest first: the group's CIDRs (longest prefix
// wins) > ASN > city > region > country > the nearest group by great-circle distance > the
// default group. The groups are compiled once into an index (maps and a CIDR trie) so that a
// match on the request path does a few map lookups and returns a shared, preallocated answer.
//
// A country-only answer (no city, the country's fixed point as coordinates) that no rule
// claims goes to the group nearest that point, except in the countries of largeCountries,
// whose point is a geographic centre far from most clients: there the groups inside the
// country share its country-only clients by rendezvous hashing on the client's network (/24,
// IPv6 /48), so that one network always meets one group and no group draws the whole country
// (rule 'large_country'). A large country with no group inside goes to the group nearest its
// point, like any other.
//
// Rule syntax in GeoGroupDoc.match:
//   countries  ISO 3166-1 alpha-2, any case: 'RU'
//   regions    ISO 3166-2 as MaxMind gives it, country first, any case: 'RU-MOW', 'US-NY'
//   cities     the English city name (MaxMind's city.names.en), any case: 'Moscow' matches a
//              Moscow in any country; 'RU:Moscow' (country code, colon, name) only in Russia.
//              A qualified rule wins over a bare one.
//   cidrs      IPv4 or IPv6 networks: '77.88.0.0/18', '2a02:6b8::/32'
//   asns       autonomous system numbers: 13238. They match when the location carries an asn
//              (the resolver adds it when it has an ASN database or provider).
// When several groups claim the same country, region, city, ASN or network, the first listed
// wins.

import { fmix32, fnv1a32 } from '../math/hash.js'
import type { GeoGroupDoc } from '../store/documents.js'
import { cidrProblem, createCidrMatcher, type CidrMatcher } from './cidr.js'
import { greatCircleKm, placesByDistance } from '../math/distance.js'
import { IPV6, NOT_IP, parseIpInto } from './ip-address.js'
import { insideBoxes, largeCountries } from './large-countries.js'
import type { IPLocation } from './location.js'

export type GeoRule = 'cidr' | 'asn' | 'city' | 'region' | 'country' | 'large_country' | 'nearest' | 'default'

export interface GeoGroupMatch {
  readonly group: string
  readonly rule: GeoRule
}

interface GroupPoint {
  readonly id: string
  readonly lat: number
  readonly lon: number
  readonly nearest: GeoGroupMatch
  readonly largeCountry: GeoGroupMatch
  /** The group's half of the network → group rendezvous hash. */
  readonly seed: number
}

export interface GeoGroupIndex {
  readonly groupIds: readonly string[]
  readonly defaultGroup: string
  readonly cidrs: CidrMatcher<GeoGroupMatch> | undefined
  readonly cities: ReadonlyMap<string, GeoGroupMatch>
  readonly qualifiedCities: ReadonlyMap<string, GeoGroupMatch>
  readonly regions: ReadonlyMap<string, GeoGroupMatch>
  readonly countries: ReadonlyMap<string, GeoGroupMatch>
  readonly asns: ReadonlyMap<number, GeoGroupMatch>
  /** For each large country, the groups inside it (possibly none). */
  readonly insideLargeCountries: ReadonlyMap<string, readonly GroupPoint[]>
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

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isStringList (value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}

/**
 * What in a stored group the index cannot compile or matching would trip over, or undefined
 * when the group is fine. A document written behind the admin API's back may hold anything,
 * so nothing here trusts the GeoGroupDoc type.
 */
export function geoGroupProblem (group: unknown): string | undefined {
  if (!isRecord(group)) return 'is not an object'
  if (typeof group._id !== 'string' || group._id === '') return '_id must be a non-empty string'
  const coordinates = group.coordinates
  if (!isRecord(coordinates) || !validCoordinate(coordinates.lat, 90) || !validCoordinate(coordinates.lon, 180)) {
    return 'coordinates must be {lat: -90…90, lon: -180…180}'
  }
  const match = group.match
  if (!isRecord(match)) return 'match must be an object'
  for (const list of ['countries', 'regions', 'cities'] as const) {
    if (!isStringList(match[list])) return `match.${list} must be a list of strings`
  }
  const cidrs = match.cidrs
  if (!Array.isArray(cidrs)) return 'match.cidrs must be a list of networks'
  for (let i = 0; i < cidrs.length; i++) {
    const problem = cidrProblem(cidrs[i])
    if (problem !== undefined) return `invalid CIDR ${JSON.stringify(cidrs[i])} (match.cidrs entry ${i}): ${problem}`
  }
  const asns = match.asns
  if (asns !== undefined && asns !== null) {
    if (!Array.isArray(asns)) return 'match.asns must be a list of AS numbers'
    for (const asn of asns) {
      if (!Number.isInteger(asn) || asn < 0 || asn > 0xffffffff) return `ASN ${String(asn)} is not a 32-bit AS number`
    }
  }
  const fallback = group.fallback
  if (!isRecord(fallback) || !isStringList(fallback.groups)) return 'fallback must be {groups: [ids], to_closest, limit}'
  return undefined
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
  const asns = new Map<number, GeoGroupMatch>()
  const points: GroupPoint[] = []

  for (const group of groups) {
    const id = group._id
    if (ids.has(id)) throw new TypeError(`geo group ${JSON.stringify(id)} is listed twice`)
    ids.add(id)
    const problem = geoGroupProblem(group)
    if (problem !== undefined) throw new TypeError(`geo group ${JSON.stringify(id)}: ${problem}`)
    const { lat, lon } = group.coordinates
    points.push({ id, lat, lon, nearest: matchOf(id, 'nearest'), largeCountry: matchOf(id, 'large_country'), seed: fmix32(fnv1a32(id)) })

    const cidrMatch = matchOf(id, 'cidr')
    for (const cidr of group.match.cidrs) cidrEntries.push([cidr, cidrMatch])
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
    const asnMatch = matchOf(id, 'asn')
    for (const asn of group.match.asns ?? []) {
      if (!asns.has(asn)) asns.set(asn, asnMatch)
    }
  }

  const insideLargeCountries = new Map<string, readonly GroupPoint[]>()
  for (const [country, boxes] of largeCountries) {
    insideLargeCountries.set(country, points.filter((point) => insideBoxes(boxes, point.lat, point.lon)))
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
    asns,
    insideLargeCountries,
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

const parsed = new Uint32Array(4)

/** The client's network (/24, IPv6 /48) as a 32-bit hash; 0 for text that is not an address. */
function networkHash (ip: string): number {
  const kind = parseIpInto(ip, parsed)
  if (kind === NOT_IP) return 0
  if (kind === IPV6) return fmix32((parsed[0] as number) ^ fmix32((parsed[1] as number) >>> 16))
  return fmix32((parsed[0] as number) >>> 8)
}

/** Rendezvous (highest random weight) over the groups, equally weighted, keyed by network. */
function spreadByNetwork (inside: readonly GroupPoint[], ip: string): GeoGroupMatch {
  const network = networkHash(ip)
  let best = inside[0] as GroupPoint
  let bestScore = -1
  for (const point of inside) {
    const score = fmix32(network ^ point.seed)
    if (score > bestScore || (score === bestScore && point.id < best.id)) {
      best = point
      bestScore = score
    }
  }
  return best.largeCountry
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

  if (index.asns.size > 0 && location.asn != null) {
    const byAsn = index.asns.get(location.asn)
    if (byAsn !== undefined) return byAsn
  }

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
  if (location.coordinates === null) return index.defaultMatch
  if (location.country_only === true && country !== null) {
    // The point of a large country says nothing about the client: see the head of this file.
    const inside = index.insideLargeCountries.get(country)
    if (inside !== undefined && inside.length > 0) return spreadByNetwork(inside, ip)
  }
  return nearest(index, location.coordinates[0], location.coordinates[1])
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
