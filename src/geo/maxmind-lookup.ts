// Where an IP is, from a MaxMind City database (GeoIP2/GeoLite2 City or anything in that
// shape): the resolver service answers from it, and the gateway falls back to it when the
// resolver is down. Also the optional ASN database the resolver adds to its answers.

import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { AsnResponse, CityResponse } from 'maxmind'
import { ipVersion, normalizeIp } from './cidr.js'
import type { IPLocation } from './location.js'
import { type MmdbFileOptions, type ReloadListener, openMmdbFile } from './mmdb-file.js'
import { isReservedIp } from './reserved.js'

export type { ReloadListener, ReloadLogger } from './mmdb-file.js'

export interface LocationLookup {
  /** Where ip is; null for a malformed, private or reserved address, or one the data lacks. */
  lookup: (ip: string) => IPLocation | null
  close: () => void
  /**
   * Present when the lookup reloads its data: listener runs after each reload attempt (with the
   * error when the new data failed and the old data is kept). Returns a function that removes
   * the listener. Caches of answers clear themselves here.
   */
  addReloadListener?: (listener: ReloadListener) => () => void
}

export interface AsnInfo {
  asn: number
  org: string
}

export interface AsnLookup {
  lookup: (ip: string) => AsnInfo | null
  close: () => void
  addReloadListener?: (listener: ReloadListener) => () => void
}

export type OpenDatabaseOptions = MmdbFileOptions

/** The GeoLite2 City database bundled with the geolite2-city package (gzipped). */
export function defaultCityDatabasePath (): string {
  const require = createRequire(import.meta.url)
  return join(dirname(require.resolve('geolite2-city/package.json')), 'GeoLite2-City.mmdb.gz')
}

/**
 * A City record as an IPLocation; null when it says neither the country nor where. A record
 * with no city and no subdivision is country_only: MaxMind then gives the country's centre.
 */
export function toIPLocation (record: CityResponse): IPLocation | null {
  const country = record.country?.iso_code ?? record.registered_country?.iso_code ?? null
  const location = record.location
  const coordinates: [number, number] | null =
    location !== undefined && Number.isFinite(location.latitude) && Number.isFinite(location.longitude)
      ? [location.latitude, location.longitude]
      : null
  if (country === null && coordinates === null) return null
  const subdivision = record.subdivisions?.[0]?.iso_code
  return Object.freeze({
    country_code: country,
    region_iso: country !== null && subdivision !== undefined ? `${country}-${subdivision}` : null,
    city: record.city?.names?.en ?? null,
    coordinates,
    country_only: record.city === undefined && (record.subdivisions === undefined || record.subdivisions.length === 0)
  })
}

/** The address to give a reader, or undefined when no database should be asked about ip. */
function lookupAddress (ip: string): string | undefined {
  if (ipVersion(ip) === 0 || isReservedIp(ip)) return undefined
  return normalizeIp(ip)
}

/**
 * Opens a City database (.mmdb or .mmdb.gz). With watch, replacing the file (write elsewhere,
 * then rename over it) swaps the new data in once it has fully loaded.
 */
export async function openCityDatabase (path: string, options: OpenDatabaseOptions = {}): Promise<LocationLookup> {
  const file = await openMmdbFile<CityResponse>(path, options)
  // The reader caches decoded records per network, so one network's addresses map to one
  // frozen IPLocation instead of a new object per lookup.
  const mapped = new WeakMap<CityResponse, IPLocation | null>()

  return {
    lookup (ip: string): IPLocation | null {
      const address = lookupAddress(ip)
      if (address === undefined) return null
      const record = file.reader.get(address)
      if (record === null || typeof record !== 'object') return null
      let location = mapped.get(record)
      if (location === undefined) {
        location = toIPLocation(record)
        mapped.set(record, location)
      }
      return location
    },
    close: file.close,
    addReloadListener: options.watch === true ? file.addReloadListener : undefined
  }
}

/** Opens an ASN database (GeoLite2-ASN shape), plain or gzipped. */
export async function openAsnDatabase (path: string, options: OpenDatabaseOptions = {}): Promise<AsnLookup> {
  const file = await openMmdbFile<AsnResponse>(path, options)
  return {
    lookup (ip: string): AsnInfo | null {
      const address = lookupAddress(ip)
      if (address === undefined) return null
      const record = file.reader.get(address)
      if (record === null || typeof record.autonomous_system_number !== 'number') return null
      return { asn: record.autonomous_system_number, org: record.autonomous_system_organization ?? '' }
    },
    close: file.close,
    addReloadListener: options.watch === true ? file.addReloadListener : undefined
  }
}
