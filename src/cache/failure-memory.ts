// Where a cached lookup remembers failures whose keys strangers choose (an unknown token): under
// a digest of the key, not the key, in a cache capped in bytes rather than entries, and swept as
// they expire whether or not they are looked up again. 100,000 made-up tokens of 4,000
// characters then cost the gateway at most maxBytes, and give it back within two sweeps.

import { LRUCache } from 'lru-cache'
import { positiveInteger, positiveNumber } from '../upstream/number-options.js'

export interface FailureMemoryOptions<K> {
  /** The key it is remembered under: a digest of fixed length. */
  keyOf: (key: K) => string
  /** Most bytes its entries are counted as. */
  maxBytes: number
  /** What one entry is counted as: its digest and the cache's bookkeeping around it. */
  entryBytes: number
  /** How often (ms) expired entries are dropped. */
  sweepMs: number
  now?: () => number
}

export interface FailureMemory<K> {
  /** The failure remembered for key, as a peek answers it; undefined when there is none. */
  peek: (key: K) => { error: unknown } | undefined
  /** Remembers error for key for ttlMs. */
  remember: (key: K, error: unknown, ttlMs: number) => void
  readonly count: number
  /** The bytes its entries are counted as. */
  readonly bytes: number
  /** Forgets everything and stops the sweep. */
  close: () => void
}

export function createFailureMemory<K> (options: FailureMemoryOptions<K>): FailureMemory<K> {
  const { keyOf } = options
  const entryBytes = positiveInteger('entryBytes', options.entryBytes)
  const entries = new LRUCache<string, { error: unknown }>({
    maxSize: positiveInteger('maxBytes', options.maxBytes, entryBytes),
    sizeCalculation: () => entryBytes,
    ttlResolution: 0,
    allowStale: false,
    perf: { now: options.now ?? Date.now }
  })
  const sweep = setInterval(() => entries.purgeStale(), positiveNumber('sweepMs', options.sweepMs))
  sweep.unref()
  // Failures of one kind are usually one shared error: their entries share one answer too.
  let last: { error: unknown } = { error: undefined }

  return {
    // No digest while nothing is remembered: the usual case costs a size check.
    peek: (key) => (entries.size === 0 ? undefined : entries.get(keyOf(key))),
    remember (key, error, ttlMs) {
      if (last.error !== error) last = { error }
      entries.set(keyOf(key), last, { ttl: Math.max(1, Math.ceil(ttlMs)) })
    },
    get count () { return entries.size },
    get bytes () { return entries.calculatedSize },
    close () {
      clearInterval(sweep)
      entries.clear()
    }
  }
}
