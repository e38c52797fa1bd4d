// The resolver's answers, cached: the same IPs come back again and again. The cache empties
// when a database reloads, so that no answer outlives its data. Each answer comes from the
// chain of providers (provider-chain.ts): the City and ASN databases and any others given, in
// the configured order. An answer a skipped provider might have bettered is cached only
// briefly, so that the provider is asked again once it may be back.

import { createCachedLookup } from '../cache/cached-lookup.js'
import { asnProvider, cityProvider } from './maxmind-providers.js'
import type { AsnInfo, LocationLookup, ReloadListener } from '../geo/maxmind-lookup.js'
import { createProviderChain, type LocationProvider } from './provider-chain.js'
import type { ResolverMetrics } from './metrics.js'
import type { ResolveAnswerBody } from './schemas.js'

export interface ReloadingLookup<T> {
  lookup: (ip: string) => T
  addReloadListener?: ((listener: ReloadListener) => () => void) | undefined
}

export interface AnswerOptions {
  city: LocationLookup
  asn?: ReloadingLookup<AsnInfo | null> | undefined
  /** Providers besides the databases, such as ip-api. */
  extraProviders?: readonly LocationProvider[] | undefined
  /**
   * Provider names in the order they are asked; names of providers not configured are left
   * out. Default: maxmind-asn, maxmind-city, then the extra providers in their order.
   */
  order?: readonly string[] | undefined
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

interface Cached {
  /** null: no data. */
  body: ResolveAnswerBody | null
  /** False when a skipped provider might have answered better. */
  complete: boolean
}

/** How long (ms) at most an answer a skipped provider might have bettered is cached. */
export const INCOMPLETE_TTL_MS = 60_000

export const defaultProviderOrder = ['maxmind-asn', 'maxmind-city'] as const

export function createAnswers (options: AnswerOptions): Answers {
  const { city, asn, metrics } = options
  const available = new Map<string, LocationProvider>([['maxmind-city', cityProvider(city)]])
  if (asn !== undefined) available.set('maxmind-asn', asnProvider(asn))
  for (const provider of options.extraProviders ?? []) available.set(provider.name, provider)
  const order = options.order ?? [...defaultProviderOrder, ...(options.extraProviders ?? []).map((p) => p.name)]
  const chain = createProviderChain(order.flatMap((name) => available.get(name) ?? []))

  async function load (ip: string): Promise<Cached> {
    const found = await chain.locate(ip)
    const location = found.location
    if (location === null) return { body: null, complete: found.complete }
    const body: ResolveAnswerBody = {
      country_code: location.country_code,
      region_iso: location.region_iso,
      city: location.city,
      coordinates: location.coordinates,
      country_only: location.country_only === true
    }
    if (found.asn !== null) {
      body.asn = found.asn
      body.org = found.org ?? ''
    }
    return { body, complete: found.complete }
  }

  const cache = createCachedLookup<string, Cached>(load, {
    max: options.cacheMax,
    ttlFor: (value) => value.complete ? options.cacheTtlMs : Math.min(options.cacheTtlMs, INCOMPLETE_TTL_MS),
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
      return value.body
    },
    get size () { return cache.size },
    close (): void {
      for (const off of unsubscribe) off?.()
    }
  }
}
