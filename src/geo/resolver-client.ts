// Where a client is, as the gateway asks it on every request: from a cache when it can, else
// from the geo-resolver service over a keep-alive pool, else — resolver down, slow or behind
// an open breaker — from the local MaxMind database. Concurrent misses for one IP share one
// resolver call, and misses for many IPs within one event-loop turn share one call
// (POST /resolve/batch, src/upstream/batch-calls.ts). The client never waits longer than
// timeoutMs for the resolver, and while the breaker is open a new client is located from the
// local database at once, without a wait. The calls go through the one upstream client
// (src/upstream/upstream-client.ts); whatever way one fails, the local database answers.

import { createCachedLookup, type Cached } from '../cache/cached-lookup.js'
import type { SignRequest } from '../signing/service-request.js'
import { createBatchCalls } from '../upstream/batch-calls.js'
import type { CircuitState } from '../upstream/circuit-breaker.js'
import { positiveNumber } from '../upstream/number-options.js'
import { createUpstreamClient, type UpstreamAnswer } from '../upstream/upstream-client.js'
import { ipVersion } from './cidr.js'
import type { IPLocation, LocationSource } from './location.js'
import type { LocationLookup } from './maxmind-lookup.js'
import { parseIPLocation } from './parse-location.js'

export interface GeoLocatorOptions {
  /** Base URL of the resolver, e.g. http://127.0.0.1:8081; /resolve?ip= is appended. */
  resolverUrl: string
  /** Longest wait (ms) for the resolver's whole answer; default 50. */
  timeoutMs?: number
  /** Most IPs kept in the cache. */
  cacheMax: number
  /** How long (ms) a resolver answer (a location, or none for a 404) is cached. */
  cacheTtlMs: number
  /**
   * How long (ms) a fallback answer is cached; default min(30000, cacheTtlMs). Shorter than a
   * resolver answer, so the resolver's replaces it within that long of its return; not much
   * shorter, because while the resolver is down every client's location is looked up again
   * this often, and a gateway serving tens of thousands of clients would spend its CPU
   * re-reading the local database.
   */
  fallbackTtlMs?: number
  breaker: { failureThreshold: number, cooldownMs: number }
  /** The local database asked when the resolver cannot answer. */
  fallback: LocationLookup
  /** Signs each call (the resolver answers only signed ones); none: unsigned. */
  sign?: SignRequest
  /** Most connections to the resolver; default 16. */
  connections?: number
  /** Most IPs in one call to the resolver; default 64; 1: one call per IP, never a batch. */
  maxBatch?: number
  now?: () => number
  logger?: { debug: (obj: object, msg: string) => void }
  /** Told which source answered each locate() and each locateNow() answer (for metrics). */
  onSource?: (source: LocationSource) => void
}

export interface GeoAnswer {
  readonly location: IPLocation | null
  readonly source: LocationSource
}

export interface GeoLocator {
  /** The location of ip, from the cache, the resolver or the fallback; never rejects. */
  locate: (ip: string) => Promise<GeoAnswer>
  /**
   * The location of ip when it can be had without a wait (the request hot path): from the
   * cache, or from the local database while the breaker is open; undefined otherwise. Never
   * a failure.
   */
  locateNow: (ip: string) => Cached<GeoAnswer> | undefined
  readonly breakerState: CircuitState
  close: () => Promise<void>
}

/** What the cache holds: the answer as it first came, and the same answer as a cache hit. */
interface Entry {
  readonly fresh: { readonly value: GeoAnswer }
  readonly hit: { readonly value: GeoAnswer }
}

function entry (location: IPLocation | null, source: 'resolver' | 'fallback'): Entry {
  return { fresh: { value: { location, source } }, hit: { value: { location, source: 'cache' } } }
}

export function createGeoLocator (options: GeoLocatorOptions): GeoLocator {
  const timeoutMs = positiveNumber('timeoutMs', options.timeoutMs ?? 50)
  const cacheTtlMs = positiveNumber('cacheTtlMs', options.cacheTtlMs)
  const fallbackTtlMs = positiveNumber('fallbackTtlMs', options.fallbackTtlMs ?? Math.min(30_000, cacheTtlMs))
  const { fallback, logger, onSource } = options
  const now = options.now ?? Date.now
  const upstream = createUpstreamClient({
    name: 'resolver',
    url: options.resolverUrl,
    timeoutMs,
    connections: options.connections ?? 16,
    breaker: options.breaker,
    sign: options.sign,
    now,
    onFailure: (err, breaker) => logger?.debug({ err, breaker }, 'geo resolver failed')
  })

  // The local database answers with one IPLocation per network, so the entries of fallback
  // answers are shared too: while the resolver is down, the cache fills with new clients, and
  // an entry of its own for each would make every one of them costlier to keep and to collect.
  const fallbackEntries = new WeakMap<IPLocation, Entry>()
  const unknownFallback = entry(null, 'fallback')

  function fromFallback (ip: string, reason: string): Entry {
    let location: IPLocation | null = null
    try {
      location = fallback.lookup(ip)
    } catch (err) {
      logger?.debug({ ip, err }, 'geo fallback lookup failed')
    }
    logger?.debug({ ip, source: 'fallback', reason }, 'geo location')
    if (location === null) return unknownFallback
    let shared = fallbackEntries.get(location)
    if (shared === undefined) {
      shared = entry(location, 'fallback')
      fallbackEntries.set(location, shared)
    }
    return shared
  }

  // Each address takes the breaker's leave before it is batched (load, below): while half-open,
  // the probe is one address, and the others of its turn go to the local database at once.
  function askResolver (ip: string): Promise<IPLocation | null> {
    return upstream.call({ method: 'GET', path: `/resolve?ip=${encodeURIComponent(ip)}`, admitted: true }, async (answer) => {
      if (answer.statusCode === 200) return readLocation(await answer.json(), answer)
      // 404: the resolver has no data for ip (private range, unknown); 400: it finds ip
      // malformed. Both are answers, not failures of the resolver.
      if (answer.statusCode === 404 || answer.statusCode === 400) {
        await answer.dump()
        return null
      }
      throw await answer.unexpectedStatus()
    })
  }

  function askResolverMany (ips: string[]): Promise<Array<IPLocation | null>> {
    return upstream.call({ method: 'POST', path: '/resolve/batch', json: JSON.stringify({ ips }), admitted: true }, async (answer) => {
      if (answer.statusCode !== 200) throw await answer.unexpectedStatus()
      const answers = (await answer.json() as { answers?: unknown } | null)?.answers
      if (!Array.isArray(answers) || answers.length !== ips.length) throw answer.malformed('a batch that is not one answer per address')
      return answers.map((each: unknown) => (each === null ? null : readLocation(each, answer)))
    })
  }

  const ask = createBatchCalls<string, IPLocation | null>({ maxBatch: options.maxBatch ?? 64, one: askResolver, many: askResolverMany })

  async function load (ip: string): Promise<Entry> {
    if (!upstream.admit()) return fromFallback(ip, 'breaker-open')
    try {
      const location = await ask(ip)
      logger?.debug({ ip, source: 'resolver' }, 'geo location')
      return entry(location, 'resolver')
    } catch {
      return fromFallback(ip, 'resolver-error')
    }
  }

  const cache = createCachedLookup<string, Entry>(load, {
    max: options.cacheMax,
    ttlFor: (value) => (value.fresh.value.source === 'resolver' ? cacheTtlMs : fallbackTtlMs),
    now
  })

  function fromCache (ip: string): { readonly value: GeoAnswer } | undefined {
    const found = cache.peek(ip)
    // load never rejects, so a cached entry is always a value.
    if (found === undefined || !('value' in found)) return undefined
    onSource?.('cache')
    return found.value.hit
  }

  function locateNow (ip: string): Cached<GeoAnswer> | undefined {
    const hit = fromCache(ip)
    if (hit !== undefined || !upstream.refusing() || ipVersion(ip) === 0) return hit
    // The resolver would not be asked anyway: the local answer needs no wait, and cached, it
    // answers this client's next requests as load's would.
    const found = fromFallback(ip, 'breaker-open')
    cache.set(ip, found)
    onSource?.(found.fresh.value.source)
    return found.fresh
  }

  return {
    locateNow,
    async locate (ip: string): Promise<GeoAnswer> {
      const hit = fromCache(ip)
      if (hit !== undefined) return hit.value
      if (ipVersion(ip) === 0) {
        // Not an address: nothing to ask the resolver, nothing worth a cache slot.
        const answer = fromFallback(ip, 'not-an-ip').fresh.value
        onSource?.(answer.source)
        return answer
      }
      const answer = (await cache.get(ip)).fresh.value
      onSource?.(answer.source)
      return answer
    },
    get breakerState () { return upstream.breakerState },
    close: upstream.close
  }
}

function readLocation (json: unknown, answer: UpstreamAnswer): IPLocation {
  const location = parseIPLocation(json)
  if (location === undefined) throw answer.malformed('a malformed location')
  return location
}
