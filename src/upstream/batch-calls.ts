// Calls to an upstream for many keys that come within one turn of the event loop travel
// together: one HTTP exchange, one signature and one nonce for up to maxBatch keys, instead of
// one of each per key. The requests an event loop turn reads (64 new viewers at once, say)
// then cost the upstream and the gateway one call, not 64.
//
// A key alone goes as it always did, by the single-key call: an idle gateway's calls are
// unchanged. The wait is the rest of the current turn (the keys are sent from setImmediate),
// nothing more. A failed batch fails each of its keys with the same error; callers that
// dedupe concurrent misses (cached-lookup, the auth client) keep one key once per batch.

import { positiveInteger } from './number-options.js'

export interface BatchCallsOptions<K, V> {
  /** Most keys in one call. */
  maxBatch: number
  /**
   * Most weight in one call (with weightOf), such as the bytes a body may take; a key heavier
   * than this goes alone. Default: no limit.
   */
  maxWeight?: number
  weightOf?: (key: K) => number
  /** The call for one key. */
  one: (key: K) => Promise<V>
  /** The call for several: one answer per key, in their order. */
  many: (keys: K[]) => Promise<V[]>
}

interface Waiting<K, V> {
  key: K
  resolve: (value: V) => void
  reject: (error: unknown) => void
}

export type BatchedCall<K, V> = (key: K) => Promise<V>

export function createBatchCalls<K, V> (options: BatchCallsOptions<K, V>): BatchedCall<K, V> {
  const { one, many, weightOf } = options
  const maxBatch = positiveInteger('maxBatch', options.maxBatch)
  const maxWeight = options.maxWeight ?? Infinity
  let queue: Array<Waiting<K, V>> = []

  function send (chunk: Array<Waiting<K, V>>): void {
    if (chunk.length === 1) {
      const [only] = chunk as [Waiting<K, V>]
      one(only.key).then(only.resolve, only.reject)
      return
    }
    many(chunk.map((waiting) => waiting.key)).then((values) => {
      if (values.length !== chunk.length) throw new Error(`a batch of ${chunk.length} got ${values.length} answers`)
      chunk.forEach((waiting, i) => waiting.resolve(values[i] as V))
    }).catch((error: unknown) => {
      for (const waiting of chunk) waiting.reject(error)
    })
  }

  function flush (): void {
    const waiting = queue
    queue = []
    let chunk: Array<Waiting<K, V>> = []
    let weight = 0
    for (const next of waiting) {
      const its = weightOf?.(next.key) ?? 0
      if (chunk.length > 0 && (chunk.length >= maxBatch || weight + its > maxWeight)) {
        send(chunk)
        chunk = []
        weight = 0
      }
      chunk.push(next)
      weight += its
    }
    if (chunk.length > 0) send(chunk)
  }

  return (key) => new Promise<V>((resolve, reject) => {
    if (queue.length === 0) setImmediate(flush)
    queue.push({ key, resolve, reject })
  })
}
