// The resolver's Prometheus metrics, in a registry of its own so that two resolvers (or a
// resolver inside the all-in-one process) never collide in the global one.

import { Counter, Gauge, Registry } from 'prom-client'

export type LookupResult = 'found' | 'not_found' | 'bad_request'

export interface ResolverMetrics {
  readonly registry: Registry
  lookup: (result: LookupResult) => void
  cache: (outcome: 'hit' | 'miss') => void
  reload: (database: 'city' | 'asn', ok: boolean) => void
  /** Where the cache-size gauge reads from at each scrape. */
  watchCacheSize: (size: () => number) => void
}

export function createResolverMetrics (): ResolverMetrics {
  let cacheSize = (): number => 0
  const registry = new Registry()
  const lookups = new Counter({
    name: 'geogate_resolver_lookups_total',
    help: 'Answers to /resolve by result.',
    labelNames: ['result'] as const,
    registers: [registry]
  })
  const cacheLookups = new Counter({
    name: 'geogate_resolver_cache_lookups_total',
    help: 'Answer cache lookups by outcome.',
    labelNames: ['outcome'] as const,
    registers: [registry]
  })
  const reloads = new Counter({
    name: 'geogate_resolver_reloads_total',
    help: 'Database reload attempts by database and result.',
    labelNames: ['database', 'result'] as const,
    registers: [registry]
  })
  // eslint-disable-next-line no-new -- registered in registry, read through collect
  new Gauge({
    name: 'geogate_resolver_cache_entries',
    help: 'Answers held in the cache.',
    registers: [registry],
    collect () { this.set(cacheSize()) }
  })
  // Start every series at zero so that rates work from the first scrape.
  for (const result of ['found', 'not_found', 'bad_request'] as const) lookups.inc({ result }, 0)
  for (const outcome of ['hit', 'miss'] as const) cacheLookups.inc({ outcome }, 0)

  return {
    registry,
    lookup (result) { lookups.inc({ result }) },
    cache (outcome) { cacheLookups.inc({ outcome }) },
    reload (database, ok) { reloads.inc({ database, result: ok ? 'ok' : 'error' }) },
    watchCacheSize (size) { cacheSize = size }
  }
}
