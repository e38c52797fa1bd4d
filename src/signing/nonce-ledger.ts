// Where a service remembers the nonces of the signed calls it answered, so that a call replayed
// within the accepted clock skew is refused. A nonce need only be kept while its timestamp is
// still accepted; after that the timestamp alone refuses the call.
//
// The auth-server keeps them in the store, shared by every replica: one insert with a unique
// _id per call, so a nonce seen by one replica is refused by all (README, "Signed service
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

/** One process's memory: for a service with no store (the resolver), and for tests. */
export function createMemoryNonceLedger (options: NonceLedgerOptions = {}): NonceLedger {
  const now = options.now ?? Date.now
  const sweepMs = options.sweepMs ?? 10_000
  const seen = new Map<string, number>()
  let nextSweep = now() + sweepMs

  return {
    claim (id, nonce, keepUntil) {
      const at = now()
      if (at >= nextSweep) {
        nextSweep = at + sweepMs
        for (const [key, until] of seen) if (until < at) seen.delete(key)
      }
      const key = `${id}:${nonce}`
      if (seen.has(key)) return false
      seen.set(key, keepUntil)
      return true
    },
    close () { seen.clear() }
  }
}
