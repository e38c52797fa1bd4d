// What the store's caches (server records, billing limits) answer while MongoDB is away: the
// last answer, for up to STALE_IF_ERROR_MS past its TTL, like nginx's proxy_cache_use_stale.

import type { StaleIfError } from '../cache/cached-lookup.js'
import { isGatewayError } from '../errors.js'

/** How long past its TTL a cached store answer keeps answering during an outage: an hour. */
export const STALE_IF_ERROR_MS = 3_600_000

/** The stale-if-error rule for a cache in front of MongoDB: only an unreachable store. */
export function storeUnreachable (maxStaleMs: number = STALE_IF_ERROR_MS): StaleIfError | undefined {
  if (maxStaleMs <= 0) return undefined
  return { maxStaleMs, when: (error) => isGatewayError(error) && error.code === 'GW_DEPENDENCY_DOWN' }
}
