// Where a client is, as the gateway asks it on every request: from a cache when it can, else
// from the geo-resolver service over a keep-alive pool, else — resolver down, slow or behind
// an open breaker — from the local MaxMind database. Concurrent misses for one IP share one
// resolver call, and misses for many IPs within one event-loop turn share one call
// (POST /resolve/batch, src/upstream/batch-calls.ts). The client never waits longer than
// timeoutMs for the resolver, and while the breaker is open a new client is located from the
// local database at once, without a wait.

import { Pool, type Dispatcher } from 'undici'
import { createCachedLookup, type Cached } from '../cache/cached-lookup.js'
import { ipVersion } from './cidr.js'
import { createCircuitBreaker, type CircuitState } from '../upstream/circuit-breaker.js'
import type { IPLocation, LocationSource } from './location.js'
import type { LocationLookup } from './maxmind-lookup.js'
import { parseIPLocation } from './parse-location.js'
import { startDeadline } from '../upstream/deadline.js'
import { createBatchCalls } from '../upstream/batch-calls.js'
import type { SignRequest } from '../signing/service-request.js'

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

function positive (name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive number, got ${String(value)}`)
  }
  return value
}

const ACCEPT_JSON = { accept: 'application/json' }

class ResolverStatusError extends Error {
  readonly statusCode: number

  constructor (statusCode: number) {
    super(`geo resolver answered ${statusCode}`)
    this.name = 'ResolverStatusError'
    this.statusCode = statusCode
  }
}

export function createGeoLocator (options: GeoLocatorOptions): GeoLocator {
  const url = new URL(options.resolverUrl)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`resolverUrl must be an http(s) URL, got ${options.resolverUrl}`)
  }
  const timeoutMs = positive('timeoutMs', options.timeoutMs ?? 50)
  const cacheTtlMs = positive('cacheTtlMs', options.cacheTtlMs)
  const fallbackTtlMs = positive('fallbackTtlMs', options.fallbackTtlMs ?? Math.min(30_000, cacheTtlMs))
  const { fallback, logger, onSource, sign } = options
  const now = options.now ?? Date.now
  const base = url.pathname.replace(/\/+$/, '')
  const resolvePath = `${base}/resolve?ip=`
  const batchPath = `${base}/resolve/batch`
  const maxBatch = options.maxBatch ?? 64

  const breaker = createCircuitBreaker({ ...options.breaker, now })
  const pool = new Pool(url.origin, {
    connections: options.connections ?? 16,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: { timeout: Math.max(1000, timeoutMs) }
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

  /** One call to the resolver, under the deadline and the breaker's count. */
  async function call<T> (path: string, question: string | undefined, read: (statusCode: number, body: Dispatcher.ResponseData['body']) => Promise<T>): Promise<T> {
    const deadline = startDeadline(timeoutMs)
    const method = question === undefined ? 'GET' : 'POST'
    try {
      const headers = question === undefined ? ACCEPT_JSON : { ...ACCEPT_JSON, 'content-type': 'application/json' }
      const { statusCode, body } = await pool.request({
        method,
        path,
        headers: sign === undefined ? headers : { ...headers, ...sign(method, path, question) },
        body: question,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: deadline.signal
      })
      const answer = await read(statusCode, body)
      breaker.recordSuccess()
      return answer
    } catch (err) {
      breaker.recordFailure()
      logger?.debug({ err, breaker: breaker.state }, 'geo resolver failed')
      throw err
    } finally {
      deadline.clear()
    }
  }

  function askResolver (ip: string): Promise<IPLocation | null> {
    return call(resolvePath + encodeURIComponent(ip), undefined, async (statusCode, body) => {
      if (statusCode === 200) {
        const location = parseIPLocation(await body.json())
        if (location === undefined) throw new Error('geo resolver answered a malformed location')
        return location
      }
      await body.dump()
      // 404: the resolver has no data for ip (private range, unknown); 400: it finds ip
      // malformed. Both are answers, not failures of the resolver.
      if (statusCode === 404 || statusCode === 400) return null
      throw new ResolverStatusError(statusCode)
    })
  }

  function askResolverMany (ips: string[]): Promise<Array<IPLocation | null>> {
    return call(batchPath, JSON.stringify({ ips }), async (statusCode, body) => {
      if (statusCode !== 200) {
        await body.dump()
        throw new ResolverStatusError(statusCode)
      }
      const { answers } = await body.json() as { answers?: unknown }
      if (!Array.isArray(answers)) throw new Error('geo resolver answered a malformed batch')
      return answers.map((answer: unknown) => {
        if (answer === null) return null
        const location = parseIPLocation(answer)
        if (location === undefined) throw new Error('geo resolver answered a malformed location')
        return location
      })
    })
  }

  const ask = createBatchCalls<string, IPLocation | null>({ maxBatch, one: askResolver, many: askResolverMany })

  async function load (ip: string): Promise<Entry> {
    if (!breaker.canRequest()) return fromFallback(ip, 'breaker-open')
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
    if (hit !== undefined || !breaker.refusing() || ipVersion(ip) === 0) return hit
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
    get breakerState () { return breaker.state },
    async close (): Promise<void> {
      await pool.close()
    }
  }
}
