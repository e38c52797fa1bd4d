// An LRU in front of a slow lookup: answers hits from memory, coalesces concurrent misses for
// one key into one call, and can remember failures briefly. Geo, auth and billing all sit
// behind one of these, so a burst of requests with one new key makes one upstream call.
//
// A value still in use late in its life is reloaded ahead of its expiry, in the background,
// while the cached value (still fresh) keeps answering: a hot key never expires under load,
// so requests never queue behind its reload. A reload that fails with a failure worth
// remembering (a denial, say) replaces the value at once; any other failure leaves the value
// to expire as it would have.
//
// With staleIfError (nginx's proxy_cache_use_stale error timeout), a value past its TTL is kept
// for maxStaleMs more: when a load fails in a way `when` accepts (the store is unreachable),
// the last value answers instead of the failure, and keeps answering from peek at once, with a
// reload tried in the background at most once per TTL, until a load succeeds again.

import { LRUCache } from 'lru-cache'

export type Clock = () => number

/**
 * What a source on the request path answers from its cache alone, without a wait: its value,
 * or a failure it remembers (a denial, an offline camera). A miss is undefined. Every cached
 * source the stream request asks (locations, grants, limits, server records) peeks this way.
 */
export type Cached<V> = { value: V } | { error: unknown }
type Hit<V> = Cached<V>

/** A peek's value; a remembered failure is thrown, a miss is undefined. */
export function cachedValue<V> (hit: Cached<V> | undefined): V | undefined {
  if (hit === undefined) return undefined
  if ('error' in hit) throw hit.error
  return hit.value
}

interface Entry<V> {
  hit: Hit<V>
  /** When a hit starts a background reload (the clock's ms); Infinity for failures. */
  refreshAt: number
  /** Until when (the clock's ms) the hit is fresh; past it only staleIfError may use it. */
  freshUntil: number
  /** Its TTL (ms), the pace of background reloads while it answers stale. */
  ttl: number
  /** Set once a load failed in a way staleIfError accepts: the stale value answers peeks. */
  servingStale: boolean
}

export interface StaleIfError {
  /** How long past its TTL (ms) a value may still answer while loads fail. */
  maxStaleMs: number
  /** Which load failures the stale value answers for (an unreachable store, not a denial). */
  when: (error: unknown) => boolean
}

export interface CachedLookupOptions<K, V> {
  /** Most entries kept. */
  max: number
  /** How long (ms) a value stays fresh; 0 or less: do not cache it. */
  ttlFor: (value: V, key: K) => number
  /** How long (ms) a failure is remembered; 0 or less (the default): not at all. */
  errorTtlFor?: (error: unknown, key: K) => number
  /**
   * The share of a value's TTL after which a hit also reloads it in the background, from 0
   * to 1; 1 turns reloading ahead off. Default 0.75.
   */
  refreshAhead?: number
  /** Keep answering with a value past its TTL while loads fail; off by default. */
  staleIfError?: StaleIfError
  now?: Clock
}

export interface CachedLookup<K, V> {
  /** The fresh cached value or failure for key, without loading; undefined on a miss. */
  peek: (key: K) => Cached<V> | undefined
  /** The value for key: from cache when fresh, else from one shared call to load. */
  get: (key: K) => Promise<V>
  /** Caches value for key as if load had returned it (for a value found without loading). */
  set: (key: K, value: V) => void
  delete: (key: K) => void
  clear: () => void
  readonly size: number
  /** How many keys answer with a stale value because their loads fail (staleIfError). */
  readonly staleCount: number
}

export function createCachedLookup<K extends {}, V extends {}> (
  load: (key: K) => Promise<V>,
  options: CachedLookupOptions<K, V>
): CachedLookup<K, V> {
  if (!Number.isInteger(options.max) || options.max < 1) {
    throw new TypeError('max must be a positive integer')
  }
  const now = options.now ?? Date.now
  const refreshAhead = options.refreshAhead ?? 0.75
  if (!(refreshAhead >= 0 && refreshAhead <= 1)) throw new TypeError('refreshAhead must be from 0 to 1')
  const stale = options.staleIfError
  if (stale !== undefined && !(Number.isFinite(stale.maxStaleMs) && stale.maxStaleMs >= 0)) {
    throw new TypeError('staleIfError.maxStaleMs must be a number of ms, 0 or more')
  }
  const maxStaleMs = stale?.maxStaleMs ?? 0
  const cache = new LRUCache<K, Entry<V>>({
    max: options.max,
    ttlAutopurge: false,
    allowStale: false,
    ttlResolution: 0,
    perf: { now }
  })
  const inflight = new Map<K, Promise<V>>()

  function peek (key: K): Hit<V> | undefined {
    const entry = cache.get(key)
    if (entry === undefined) return undefined
    const at = now()
    if (at > entry.freshUntil) {
      // Past its TTL (a value exactly its TTL old is still fresh, as in the LRU), kept for
      // staleIfError: it answers only once a load has failed.
      if (!entry.servingStale) return undefined
      if (entry.refreshAt <= at && !inflight.has(key)) {
        entry.refreshAt = at + entry.ttl
        start(key).catch(() => {})
      }
      return entry.hit
    }
    if (entry.refreshAt <= at && !inflight.has(key)) {
      // Its failure is handled in start; the cached value answers meanwhile.
      start(key).catch(() => {})
    }
    return entry.hit
  }

  function set (key: K, value: V): void {
    const ttl = options.ttlFor(value, key)
    if (ttl <= 0) {
      cache.delete(key)
      return
    }
    const at = now()
    const entry: Entry<V> = {
      hit: { value },
      refreshAt: refreshAhead < 1 ? at + ttl * refreshAhead : Infinity,
      freshUntil: at + ttl,
      ttl,
      servingStale: false
    }
    cache.set(key, entry, { ttl: ttl + maxStaleMs })
  }

  /** The value kept for key past its TTL when error is one staleIfError answers for. */
  function staleFor (key: K, error: unknown): Entry<V> | undefined {
    if (stale === undefined || !stale.when(error)) return undefined
    const entry = cache.get(key)
    if (entry === undefined || !('value' in entry.hit)) return undefined
    return entry
  }

  function start (key: K): Promise<V> {
    const pending = load(key).then(
      (value) => {
        set(key, value)
        return value
      },
      (error: unknown) => {
        const kept = staleFor(key, error)
        if (kept !== undefined && 'value' in kept.hit) {
          if (!kept.servingStale) {
            kept.servingStale = true
            kept.refreshAt = now() + kept.ttl
          }
          return kept.hit.value
        }
        const ttl = options.errorTtlFor?.(error, key) ?? 0
        if (ttl > 0) cache.set(key, { hit: { error }, refreshAt: Infinity, freshUntil: now() + ttl, ttl, servingStale: false }, { ttl })
        throw error
      }
    ).finally(() => inflight.delete(key))
    inflight.set(key, pending)
    return pending
  }

  return {
    peek,
    get (key: K): Promise<V> {
      const hit = peek(key)
      if (hit !== undefined) {
        return 'value' in hit ? Promise.resolve(hit.value) : Promise.reject(hit.error)
      }
      return inflight.get(key) ?? start(key)
    },
    set,
    delete (key: K) { cache.delete(key) },
    clear () { cache.clear() },
    get size () { return cache.size },
    get staleCount () {
      let count = 0
      for (const entry of cache.values()) if (entry.servingStale) count++
      return count
    }
  }
}
