// The resolver's JSON answer, checked field by field before the gateway trusts it: a resolver
// of another version, or something else on its port, must not put garbage into routing.

import type { IPLocation } from './location.js'

function isStringOrNull (value: unknown): value is string | null {
  return value === null || typeof value === 'string'
}

function isCoordinates (value: unknown): value is [number, number] {
  return Array.isArray(value) && value.length === 2 &&
    Number.isFinite(value[0]) && Number.isFinite(value[1]) &&
    Math.abs(value[0] as number) <= 90 && Math.abs(value[1] as number) <= 180
}

/** An IPLocation with exactly the known fields, or undefined when json is not one. */
export function parseIPLocation (json: unknown): IPLocation | undefined {
  if (typeof json !== 'object' || json === null) return undefined
  const { country_code: countryCode, region_iso: regionIso, city, coordinates, country_only: countryOnly, asn } =
    json as Record<string, unknown>
  if (!isStringOrNull(countryCode) || !isStringOrNull(regionIso) || !isStringOrNull(city)) return undefined
  if (coordinates !== null && !isCoordinates(coordinates)) return undefined
  if (countryOnly !== undefined && typeof countryOnly !== 'boolean') return undefined
  if (asn !== undefined && asn !== null && !(Number.isInteger(asn) && (asn as number) >= 0 && (asn as number) <= 0xffffffff)) return undefined
  const location: IPLocation = {
    country_code: countryCode,
    region_iso: regionIso,
    city,
    coordinates: coordinates === null ? null : [coordinates[0], coordinates[1]],
    country_only: countryOnly === true,
    ...(typeof asn === 'number' && { asn })
  }
  return Object.freeze(location)
}
