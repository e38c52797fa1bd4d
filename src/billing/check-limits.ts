// checkLimits at redirect time: the account, its tariff and its active sessions from MongoDB,
// cached briefly; and for a token with max_sessions, how many viewers it feeds (its live token
// slots), cached as briefly, so that a token known to be at its limit is refused early. The
// authoritative counts are taken when the node reports the play.

import { createCachedLookup, type Cached } from '../cache/cached-lookup.js'
import { storeUnreachable } from '../store/stale-if-error.js'
import { gatewayError } from '../errors.js'
import { REQUEST_QUERY_TIMEOUT_MS, type Collections } from '../store/mongo.js'
import { withinDeadline } from '../store/query-deadline.js'
import { decideLimits, type AccountLimits, type LimitRequest } from './decide-limits.js'
import { countTokenSessions, tokenLimitMessage } from './token-slots.js'

export interface BillingOptions {
  collections: Pick<Collections, 'accounts' | 'tariffs' | 'sessions' | 'sessionSlots'>
  cacheTtlMs: number
  cacheMax?: number
  /** The longest each query may take (ms); default REQUEST_QUERY_TIMEOUT_MS. */
  queryTimeoutMs?: number
  /**
   * How long past its TTL (ms) a cached answer keeps answering while MongoDB is unreachable;
   * default an hour (STALE_IF_ERROR_MS), 0: not at all.
   */
  staleIfErrorMs?: number
  now?: () => number
}

export interface BillingChecker {
  /**
   * The account, its tariff and its count when they admit one more stream of this format and
   * pattern; throws GW_BILLING_BLOCKED or GW_LIMIT_EXCEEDED; GW_DEPENDENCY_DOWN when MongoDB fails.
   */
  checkLimits: (owner: string, request: LimitRequest) => Promise<AccountLimits>
  /** checkLimits from the cache alone: passed, why not, or undefined when owner is not cached. */
  peekLimits: (owner: string, request: LimitRequest) => Cached<AccountLimits> | undefined
  /**
   * What is known of the account without deciding anything, for checks that follow a play
   * already let in (its geo rule at /verify): the cached value, or the last one kept past its
   * TTL while a reload runs in the background (see peekLatest); undefined when nothing is kept.
   */
  peekAccount: (owner: string) => Cached<AccountLimits> | undefined
  /** The account as peekAccount knows it, loaded when nothing is kept. */
  loadAccount: (owner: string) => Promise<AccountLimits>
  /**
   * For a token with max_sessions: throws GW_TOKEN_LIMIT when it feeds as many viewers as that
   * already, as last counted; GW_DEPENDENCY_DOWN when MongoDB fails.
   */
  checkTokenSessions: (tokenId: string, maxSessions: number) => Promise<void>
  /** checkTokenSessions from the cache alone: passed, why not, or undefined when not cached. */
  peekTokenSessions: (tokenId: string, maxSessions: number) => Cached<true> | undefined
  /** How many accounts' limits answer from cache past their TTL because MongoDB is unreachable. */
  staleCount: () => number
}

export async function loadAccountLimits (
  collections: BillingOptions['collections'], owner: string, nowMs: number, queryTimeoutMs = REQUEST_QUERY_TIMEOUT_MS
): Promise<AccountLimits> {
  // One deadline for the account, its tariff and its sessions together.
  return await withinDeadline(queryTimeoutMs, async (bound) => {
    const account = await collections.accounts.findOne({ _id: owner }, bound)
    if (account === null) return { account: null, tariff: null, activeSessions: 0 }
    const tariff = await collections.tariffs.findOne({ _id: account.tariff }, bound)
    const activeSessions = tariff?.max_concurrent_streams == null
      ? 0
      : await collections.sessions.countDocuments({ owner, expires_at: { $gt: new Date(nowMs) } }, bound)
    return { account, tariff, activeSessions }
  })
}

export function createBillingChecker (options: BillingOptions): BillingChecker {
  const now = options.now ?? Date.now
  const staleIfError = storeUnreachable(options.staleIfErrorMs)
  const cache = createCachedLookup<string, AccountLimits>(
    async (owner) => {
      try {
        return await loadAccountLimits(options.collections, owner, now(), options.queryTimeoutMs)
      } catch (err) {
        throw gatewayError('GW_DEPENDENCY_DOWN', 'the billing store is unreachable', { cause: err })
      }
    },
    { max: options.cacheMax ?? 50_000, ttlFor: () => options.cacheTtlMs, now, ...(staleIfError !== undefined && { staleIfError }) }
  )

  const tokenSessions = createCachedLookup<string, number>(
    async (tokenId) => {
      try {
        return await withinDeadline(options.queryTimeoutMs ?? REQUEST_QUERY_TIMEOUT_MS, async (bound) => await countTokenSessions(options.collections.sessionSlots, tokenId, new Date(now()), bound))
      } catch (err) {
        throw gatewayError('GW_DEPENDENCY_DOWN', 'the billing store is unreachable', { cause: err })
      }
    },
    { max: options.cacheMax ?? 50_000, ttlFor: () => options.cacheTtlMs, now, ...(staleIfError !== undefined && { staleIfError }) }
  )
  const underTokenLimit = { value: true } as const
  function tokenVerdict (count: number, maxSessions: number): Cached<true> {
    return count < maxSessions ? underTokenLimit : { error: gatewayError('GW_TOKEN_LIMIT', tokenLimitMessage(maxSessions)) }
  }

  function refusal (limits: AccountLimits, request: LimitRequest): { error: unknown } | undefined {
    const verdict = decideLimits(limits, request)
    return verdict === null ? undefined : { error: gatewayError(verdict.code, verdict.message) }
  }

  return {
    async checkLimits (owner, request) {
      const limits = await cache.get(owner)
      const refused = refusal(limits, request)
      if (refused !== undefined) throw refused.error
      return limits
    },
    peekLimits (owner, request) {
      // The cache's own hit is the answer: a warm request allocates nothing here.
      const hit = cache.peek(owner)
      return hit === undefined || !('value' in hit) ? hit : refusal(hit.value, request) ?? hit
    },
    peekAccount: (owner) => cache.peekLatest(owner),
    loadAccount: (owner) => cache.get(owner),
    async checkTokenSessions (tokenId, maxSessions) {
      const verdict = tokenVerdict(await tokenSessions.get(tokenId), maxSessions)
      if ('error' in verdict) throw verdict.error
    },
    peekTokenSessions (tokenId, maxSessions) {
      const hit = tokenSessions.peek(tokenId)
      return hit === undefined || !('value' in hit) ? hit : tokenVerdict(hit.value, maxSessions)
    },
    staleCount: () => cache.staleCount
  }
}
