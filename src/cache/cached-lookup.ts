// An LRU in front of a slow lookup: answers hits from memory, coalesces concurrent misses for
// one key into one call, and can remember failures briefly. Geo, auth and billing all sit
// behind one of these, so a burst of requests with one new key makes one upstream call.
//
// A value still in use late in its life is reloaded ahead of its expiry, in the background,
// while the cached value (still fresh) keeps answering: a hot key never expires under load,
// so requests never queue behind its reload. A reload that fails with a failure worth
// remembering (a denial, say), or one that ends the value (endsValue: a revoked token),
// replaces the value at once; any other failure leaves the value to expire as it would have.
//
// With staleIfError (nginx's proxy_cache_use_stale error timeout), a value past its TTL is kept
// for maxStaleMs more: when a load fails in a way `when` accepts (the store is unreachable),
// the last value answers instead of the failure, and keeps answering from peek at once, with a
// reload tried in the background every retryMs (by default once per TTL), until a load
// succeeds again. A lookup in front of an upstream with a breaker retries at every use
// (retryMs 0) and lets the breaker pace it (mayReload): no reload starts while it refuses.
//
// A value that carries its own end (a token's expiry: endOf) answers neither fresh nor stale
// from then on, whatever the TTLs say. Failures whose keys strangers choose can be remembered
// apart from the values (failureMemory: under a digest, capped in bytes).
//
// Times live in the entries, not in the LRU: a hit costs one clock read and a few comparisons,
// and an entry past all its times is dropped when it is next looked at or when the LRU is full.

import { LRUCache } from 'lru-cache'
import { nonNegativeNumber, positiveInteger } from '../upstream/number-options.js'
import type { FailureMemory } from './failure-memory.js'

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
  /** Until when (the clock's ms) the hit is fresh, that moment included. */
  freshUntil: number
  /** Until when a value may answer stale, once a load failed in a way staleIfError accepts. */
  staleUntil: number
  /** From when the value answers no more, fresh or stale (endOf); Infinity: never. */
  endsAt: number
  /** How long (ms) after a reload of a value answering stale the next one may start. */
  retryMs: number
  /** Set once a load failed in a way staleIfError accepts: the stale value answers peeks. */
  servingStale: boolean
}

export interface StaleIfError {
  /** How long past its TTL (ms) a value may still answer while loads fail. */
  maxStaleMs: number
  /** Which load failures the stale value answers for (an unreachable store, not a denial). */
  when: (error: unknown) => boolean
  /**
   * How often (ms) a value answering stale has its load retried in the background; default its
   * TTL. 0: at every use (with mayReload to pace it by the upstream's breaker).
   */
  retryMs?: number
}

export interface CachedLookupOptions<K, V> {
  /** Most entries kept. */
  max: number
  /** How long (ms) a value stays fresh; 0 or less: do not cache it. */
  ttlFor: (value: V, key: K) => number
  /**
   * When (the clock's ms) a value stops being true, such as a token's expiry: from then on it
   * answers neither fresh nor stale, and one already past it is not cached. Default: never.
   */
  endOf?: (value: V, key: K) => number
  /** How long (ms) a failure is remembered; 0 or less (the default): not at all. */
  errorTtlFor?: (error: unknown, key: K) => number
  /**
   * Failures that end the key's value at once even when they are not remembered (a revoked
   * token's denial with denials not remembered); a remembered failure always does.
   */
  endsValue?: (error: unknown, key: K) => boolean
  /**
   * Where remembered failures are kept instead of among the values: a failure memory holds a
   * digest of the key in a cache capped in bytes, so keys strangers make up are not held.
   */
  failureMemory?: FailureMemory<K>
  /**
   * The share of a value's TTL after which a hit also reloads it in the background, from 0
   * to 1; 1 turns reloading ahead off. Default 0.75.
   */
  refreshAhead?: number
  /** Keep answering with a value past its TTL while loads fail; off by default. */
  staleIfError?: StaleIfError
  /**
   * Whether a background reload may start now; a lookup in front of an upstream passes its
   * breaker's answer, since while it refuses a reload would only fail. Default: always.
   */
  mayReload?: () => boolean
  now?: Clock
}

export interface CachedLookup<K, V> {
  /** The fresh cached value or failure for key, without loading; undefined on a miss. */
  peek: (key: K) => Cached<V> | undefined
  /**
   * peek, or else the last value still kept for key past its TTL (while staleIfError keeps it),
   * with a reload started in the background: for a check that must not wait on a load once it
   * has been answered, and takes a change as soon as the reload brings it. undefined when
   * nothing is kept.
   */
  peekLatest: (key: K) => Cached<V> | undefined
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
  const { ttlFor, endOf, errorTtlFor, endsValue, failureMemory, mayReload } = options
  const now = options.now ?? Date.now
  const refreshAhead = options.refreshAhead ?? 0.75
  if (!(refreshAhead >= 0 && refreshAhead <= 1)) throw new TypeError('refreshAhead must be from 0 to 1')
  const stale = options.staleIfError
  const maxStaleMs = stale === undefined ? 0 : nonNegativeNumber('staleIfError.maxStaleMs', stale.maxStaleMs)
  const retryMs = stale?.retryMs === undefined ? undefined : nonNegativeNumber('staleIfError.retryMs', stale.retryMs)
  const cache = new LRUCache<K, Entry<V>>({ max: positiveInteger('max', options.max) })
  const inflight = new Map<K, Promise<V>>()

  function peek (key: K): Hit<V> | undefined {
    const entry = cache.get(key)
    if (entry === undefined) return failureMemory?.peek(key)
    const at = now()
    // A value exactly its TTL old is still fresh; one at its end is not.
    if (at <= entry.freshUntil && at < entry.endsAt) {
      // Its failure is handled in start; the cached value answers meanwhile.
      if (entry.refreshAt <= at) reload(key)
      return entry.hit
    }
    if (entry.servingStale && at <= entry.staleUntil && at < entry.endsAt) {
      if (entry.refreshAt <= at && reload(key)) entry.refreshAt = at + entry.retryMs
      return entry.hit
    }
    // Past its TTL and kept for staleIfError, it answers only once a load has failed.
    if (at > entry.staleUntil || at >= entry.endsAt) cache.delete(key)
    return undefined
  }

  function peekLatest (key: K): Hit<V> | undefined {
    const hit = peek(key)
    if (hit !== undefined) return hit
    const entry = cache.get(key)
    if (entry === undefined || !('value' in entry.hit)) return undefined
    const at = now()
    if (at > entry.staleUntil || at >= entry.endsAt) return undefined
    reload(key)
    return entry.hit
  }

  /** Starts reloading key in the background unless a load is out or may not start; whether it did. */
  function reload (key: K): boolean {
    if (inflight.has(key) || (mayReload !== undefined && !mayReload())) return false
    start(key).catch(() => {})
    return true
  }

  function set (key: K, value: V): void {
    const at = now()
    const endsAt = endOf?.(value, key) ?? Infinity
    const ttl = Math.min(ttlFor(value, key), endsAt - at)
    if (ttl <= 0) {
      cache.delete(key)
      return
    }
    cache.set(key, {
      hit: { value },
      refreshAt: refreshAhead < 1 ? at + ttl * refreshAhead : Infinity,
      freshUntil: at + ttl,
      staleUntil: at + ttl + maxStaleMs,
      endsAt,
      retryMs: retryMs ?? ttl,
      servingStale: false
    })
  }

  /** The value kept for key past its TTL when error is one staleIfError answers for. */
  function staleFor (key: K, error: unknown): (Entry<V> & { hit: { value: V } }) | undefined {
    if (stale === undefined || !stale.when(error)) return undefined
    const entry = cache.get(key)
    if (entry === undefined || !('value' in entry.hit)) return undefined
    const at = now()
    if (at > entry.staleUntil || at >= entry.endsAt) return undefined
    return entry as Entry<V> & { hit: { value: V } }
  }

  /** What a failed load leaves behind: the failure remembered, the value ended, or nothing. */
  function failed (key: K, error: unknown): void {
    const ttl = errorTtlFor?.(error, key) ?? 0
    if (ttl > 0 && failureMemory !== undefined) {
      cache.delete(key)
      failureMemory.remember(key, error, ttl)
    } else if (ttl > 0) {
      const until = now() + ttl
      cache.set(key, { hit: { error }, refreshAt: Infinity, freshUntil: until, staleUntil: until, endsAt: Infinity, retryMs: ttl, servingStale: false })
    } else if (endsValue?.(error, key) === true) {
      cache.delete(key)
    }
  }

  function start (key: K): Promise<V> {
    const pending = load(key).then(
      (value) => {
        set(key, value)
        return value
      },
      (error: unknown) => {
        const kept = staleFor(key, error)
        if (kept !== undefined) {
          if (!kept.servingStale) {
            kept.servingStale = true
            kept.refreshAt = now() + kept.retryMs
          }
          return kept.hit.value
        }
        failed(key, error)
        throw error
      }
    ).finally(() => inflight.delete(key))
    inflight.set(key, pending)
    return pending
  }

  return {
    peek,
    peekLatest,
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
      const at = now()
      let count = 0
      for (const entry of cache.values()) {
        if (entry.servingStale && at <= entry.staleUntil && at < entry.endsAt) count++
      }
      return count
    }
  }
}
