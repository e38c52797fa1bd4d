// Where a service remembers the nonces of the signed calls it answered, so that a call replayed
// within the accepted clock skew is refused. A nonce need only be kept while its timestamp is
// still accepted; after that the timestamp alone refuses the call.
//
// The auth-server keeps them in the store, shared by every replica: one insert with a unique
// _id per call, so a nonce seen by one replica is refused by all (docs/services.md, "Signed service
// calls"). The embedded store has no TTL expiry, so expired nonces are deleted here, at most
// once per sweep interval; a TTL index on expires_at does the same in MongoDB.

import type { Collection } from 'mongodb'
import type { ServiceNonceDoc } from '../store/documents.js'

export interface NonceLedger {
  /**
   * True the first time (id, nonce) is claimed; false for a replay. Rejects when it cannot tell.
   * A ledger in memory answers at once, sparing the caller a promise per call.
   */
  claim: (id: string, nonce: string, keepUntil: number) => boolean | Promise<boolean>
  close: () => void
}

const DUPLICATE_KEY = 11000

export interface NonceLedgerOptions {
  now?: () => number
  /** How often expired nonces are deleted (ms); default 60000. */
  sweepMs?: number
  onSweepError?: (err: unknown) => void
}

export function createStoreNonceLedger (nonces: Pick<Collection<ServiceNonceDoc>, 'insertOne' | 'deleteMany'>, options: NonceLedgerOptions = {}): NonceLedger {
  const now = options.now ?? Date.now
  const sweepMs = options.sweepMs ?? 60_000
  let nextSweep = now() + sweepMs
  let sweeping = false

  function sweep (at: number): void {
    if (at < nextSweep || sweeping) return
    nextSweep = at + sweepMs
    sweeping = true
    nonces.deleteMany({ expires_at: { $lt: new Date(at) } })
      .catch((err: unknown) => options.onSweepError?.(err))
      .finally(() => { sweeping = false })
  }

  return {
    async claim (id, nonce, keepUntil) {
      const at = now()
      sweep(at)
      try {
        await nonces.insertOne({ _id: `${id}:${nonce}`, expires_at: new Date(keepUntil) })
        return true
      } catch (err) {
        if ((err as { code?: unknown }).code === DUPLICATE_KEY) return false
        throw err
      }
    },
    close () {}
  }
}

/**
 * One process's memory: for a service with no store (the resolver), a single auth-server, and
 * tests. Nonces are forgotten in the order they came, from the front of a queue, a few at each
 * claim: a sweep over every nonce of the last minute (hundreds of thousands under load) held
 * the event loop for tens of milliseconds, long enough for the gateway's 50 ms resolver calls
 * to time out. Calls arrive roughly in the order of their timestamps, so the front of the
 * queue is the first to expire; one that expires later than those behind it only keeps them a
 * little longer.
 */
export function createMemoryNonceLedger (options: NonceLedgerOptions = {}): NonceLedger {
  const now = options.now ?? Date.now
  const seen = new Map<string, number>()
  let queue: string[] = []
  let head = 0

  function forgetExpired (at: number): void {
    while (head < queue.length) {
      const key = queue[head] as string
      const until = seen.get(key)
      if (until !== undefined && until >= at) break
      seen.delete(key)
      head++
    }
    // The forgotten front is dropped once it is most of the array.
    if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head)
      head = 0
    }
  }

  return {
    claim (id, nonce, keepUntil) {
      forgetExpired(now())
      const key = `${id}:${nonce}`
      if (seen.has(key)) return false
      seen.set(key, keepUntil)
      queue.push(key)
      return true
    },
    close () {
      seen.clear()
      queue = []
      head = 0
    }
  }
}
