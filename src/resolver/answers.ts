// The resolver's answers, cached: the same IPs come back again and again. The cache empties
// when a database reloads, so that no answer outlives its data.

import { createCachedLookup } from '../cache/cached-lookup.js'
import type { AsnInfo, LocationLookup, ReloadListener } from '../geo/maxmind-lookup.js'
import type { ResolverMetrics } from './metrics.js'
import type { ResolveAnswerBody } from './schemas.js'

export interface ReloadingLookup<T> {
  lookup: (ip: string) => T
  addReloadListener?: ((listener: ReloadListener) => () => void) | undefined
}

export interface AnswerOptions {
  city: LocationLookup
  asn?: ReloadingLookup<AsnInfo | null> | undefined
  cacheMax: number
  cacheTtlMs: number
  metrics: ResolverMetrics
  now?: (() => number) | undefined
}

/** The location of an address (with its network when an ASN database is given), or null. */
export interface Answers {
  get: (ip: string) => Promise<ResolveAnswerBody | null>
  readonly size: number
  /** Stops listening to reloads. */
  close: () => void
}

/** Cache values must be objects; this one stands for "no data". */
const NOT_FOUND = Object.freeze({ found: false as const })
type Cached = ResolveAnswerBody | typeof NOT_FOUND

export function createAnswers (options: AnswerOptions): Answers {
  const { city, asn, metrics } = options

  async function load (ip: string): Promise<Cached> {
    const location = city.lookup(ip)
    if (location === null) return NOT_FOUND
    const answer: ResolveAnswerBody = {
      country_code: location.country_code,
      region_iso: location.region_iso,
      city: location.city,
      coordinates: location.coordinates,
      country_only: location.country_only === true
    }
    const network = asn?.lookup(ip)
    if (network != null) {
      answer.asn = network.asn
      answer.org = network.org
    }
    return answer
  }

  const cache = createCachedLookup<string, Cached>(load, {
    max: options.cacheMax,
    ttlFor: () => options.cacheTtlMs,
    now: options.now
  })

  function onReload (database: 'city' | 'asn'): ReloadListener {
    return (err) => {
      metrics.reload(database, err === undefined)
      if (err === undefined) cache.clear()
    }
  }
  const unsubscribe = [
    city.addReloadListener?.(onReload('city')),
    asn?.addReloadListener?.(onReload('asn'))
  ]

  return {
    async get (ip: string): Promise<ResolveAnswerBody | null> {
      const hit = cache.peek(ip)
      metrics.cache(hit === undefined ? 'miss' : 'hit')
      const value = hit !== undefined && 'value' in hit ? hit.value : await cache.get(ip)
      return value === NOT_FOUND ? null : value as ResolveAnswerBody
    },
    get size () { return cache.size },
    close (): void {
      for (const off of unsubscribe) off?.()
    }
  }
}
