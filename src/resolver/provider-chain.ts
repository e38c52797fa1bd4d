// The resolver's providers of locations, asked in a configured order: the MaxMind City and
// ASN databases, and an HTTP service speaking ip-api's JSON. The first answer with city-level
// coordinates wins and the providers after it are not asked; when none gives one, the best
// partial answer does (coordinates of a region, then a country's point, then a country alone),
// the earliest in order among equals. The network (asn, org) comes from the first provider
// asked that knows it, so an ASN database placed before the City database adds it to every
// answer.
//
// A provider that cannot answer now (down, rate-limited, behind an open breaker) is skipped;
// the answer is then marked incomplete, and the resolver caches it only briefly, so that the
// skipped provider is asked again soon.

import type { IPLocation } from '../geo/location.js'

export interface ProviderAnswer {
  /** Where ip is, as far as this provider knows; null: it does not know. */
  readonly location: IPLocation | null
  readonly asn?: number | undefined
  readonly org?: string | undefined
}

/** A provider's answer, null for "no data about ip", or SKIPPED when it could not be asked. */
export type ProviderResult = ProviderAnswer | null | typeof SKIPPED

export const SKIPPED = Symbol('skipped')

export interface LocationProvider {
  readonly name: string
  locate: (ip: string) => ProviderResult | Promise<ProviderResult>
}

export interface ChainAnswer {
  readonly location: IPLocation | null
  readonly asn: number | null
  readonly org: string | null
  /** The provider whose location it is; null when none had one. */
  readonly provider: string | null
  /** False when a provider was skipped and no city-level answer was found without it. */
  readonly complete: boolean
}

export interface ProviderChain {
  locate: (ip: string) => Promise<ChainAnswer>
  readonly names: readonly string[]
}

/** How much a location says: 4 city-level coordinates … 1 a country alone, 0 nothing. */
export function locationRank (location: IPLocation | null): number {
  if (location === null) return 0
  if (location.coordinates !== null && location.country_only !== true) return location.city !== null ? 4 : 3
  if (location.coordinates !== null) return 2
  return location.country_code !== null ? 1 : 0
}

export const CITY_LEVEL = 4

export function createProviderChain (providers: readonly LocationProvider[], onError?: (provider: string, err: unknown) => void): ProviderChain {
  if (providers.length === 0) throw new TypeError('at least one location provider is required')
  return {
    names: providers.map((p) => p.name),
    async locate (ip: string): Promise<ChainAnswer> {
      let best: IPLocation | null = null
      let bestRank = 0
      let bestProvider: string | null = null
      let asn: number | null = null
      let org: string | null = null
      let complete = true
      for (const provider of providers) {
        let result: ProviderResult
        try {
          result = await provider.locate(ip)
        } catch (err) {
          onError?.(provider.name, err)
          result = SKIPPED
        }
        if (result === SKIPPED) {
          complete = false
          continue
        }
        if (result === null) continue
        if (asn === null && result.asn !== undefined) {
          asn = result.asn
          org = result.org ?? ''
        }
        const rank = locationRank(result.location)
        if (rank > bestRank) {
          best = result.location
          bestRank = rank
          bestProvider = provider.name
        }
        if (rank >= CITY_LEVEL) return { location: best, asn, org, provider: bestProvider, complete: true }
      }
      return { location: best, asn, org, provider: bestProvider, complete }
    }
  }
}
