// Whether MongoDB answers, learned from the queries themselves: a breaker. After a few
// failures in a row (no answer within the deadline, no server to select, a dropped
// connection) the store is known to be down, and queries on a client's request path fail at
// once instead of each waiting out MONGODB_QUERY_TIMEOUT_MS. Background queries (the routing
// snapshot's tick, each SNAPSHOT_REFRESH_MS) keep trying, as probes: the first that is
// answered closes the breaker, so fresh data is used again as soon as the store is back,
// without a restart, and no client's request ever waits on a probe.

export type StoreState = 'up' | 'down'

export interface StoreHealth {
  /** Whether a query on a client's request path may go to the store now. */
  admit: () => boolean
  /** A query was answered (whatever the answer: a duplicate key is still an answer). */
  succeeded: () => void
  /** A query got no answer from the store. */
  failed: () => void
  state: () => StoreState
  /** When the current outage began (the first failure of the run that opened the breaker). */
  downSince: () => number | undefined
}

export interface StoreHealthOptions {
  /** Failures in a row that mark the store down; default 3. */
  failureThreshold?: number
  now?: () => number
}

export function createStoreHealth (options: StoreHealthOptions = {}): StoreHealth {
  const threshold = options.failureThreshold ?? 3
  if (!Number.isInteger(threshold) || threshold < 1) throw new TypeError('failureThreshold must be a positive integer')
  const now = options.now ?? Date.now
  let failures = 0
  let firstFailureAt: number | undefined

  return {
    admit: () => failures < threshold,
    succeeded () {
      failures = 0
      firstFailureAt = undefined
    },
    failed () {
      failures++
      firstFailureAt ??= now()
    },
    state: () => failures < threshold ? 'up' : 'down',
    downSince: () => failures < threshold ? undefined : firstFailureAt
  }
}
