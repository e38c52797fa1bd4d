// The gateway's client of the auth-server (docs/design.md section 2.4). It asks once per token what the
// token may do (`POST /introspect`, after RFC 7662) and decides every object itself with the
// auth-server's own grantAllows, so a viewer's rights are learned once, not once per camera.
// The calls go through the one upstream client (src/upstream/upstream-client.ts) and the rights
// sit in a cached lookup (src/cache/cached-lookup.ts); what is the auth client's own is below.
//
// - A token's rights are cached no longer than maxGrantTtlMs nor past its expiry, and reloaded
//   in the background while in use late in that life: a revoked token is refused within
//   maxGrantTtlMs on every gateway, and at once where its reload finds it revoked.
// - Concurrent misses for one token share one call, and misses for many tokens within one
//   event-loop turn share one call too (POST /introspect/batch, src/upstream/batch-calls.ts).
// - When the auth-server cannot answer (down, 5xx, timed out, its breaker open), a token's last
//   known rights keep answering for up to staleIfErrorMs after they were learned (stale-if-
//   error), retried at each use while the breaker lets calls through; a token never seen is a
//   503, at once while the breaker is open. A 400 (a token its schema refuses) is the token's
//   answer, not a failure of the auth-server.
// - Unknown tokens are remembered under their digest, not themselves, in a cache capped in
//   bytes and purged as entries expire: strangers cannot make the gateway hold their tokens.

import { createCachedLookup, type Cached } from '../cache/cached-lookup.js'
import { createFailureMemory } from '../cache/failure-memory.js'
import { gatewayError, isGatewayError, type GatewayError } from '../errors.js'
import type { Grant } from '../store/documents.js'
import type { SignRequest } from '../signing/service-request.js'
import { createBatchCalls } from '../upstream/batch-calls.js'
import type { CircuitState } from '../upstream/circuit-breaker.js'
import { nonNegativeNumber, positiveInteger, positiveNumber } from '../upstream/number-options.js'
import { createUpstreamClient, type UpstreamAnswer } from '../upstream/upstream-client.js'
import { dependencyDown } from '../upstream/upstream-error.js'
import { grantAllows, type GrantRequest } from './grants.js'
import { hashToken } from './token-hash.js'

export interface Principal {
  owner_type: string
  owner_id: string
  /** When the token expires (ms since the epoch); null: never. */
  expires_at: number | null
  /** The token's id: its sha256 in hex (the tokens collection's _id), learned with its rights. */
  token_id: string
  /** The most viewers the token may feed at once (its max_sessions); absent: no limit of its own. */
  max_sessions?: number
}

export interface AuthClientOptions {
  /** The auth-server's base URL, such as 'http://127.0.0.1:8082'. */
  url: string
  /** The most one call may take, connecting included (ms). Default 500. */
  timeoutMs?: number
  /** Most tokens whose rights are kept. */
  cacheMax: number
  /** Longest a token's rights are trusted without asking again (ms). Default 60000. */
  maxGrantTtlMs?: number
  /** How long an unknown token is remembered (ms). Default 5000. */
  denyTtlMs?: number
  /** Most bytes the remembered unknown tokens may take. Default 4 MiB. */
  denyCacheBytes?: number
  /** How long after they were learned a token's rights answer while the auth-server cannot (ms). Default 1 h. */
  staleIfErrorMs?: number
  /** Signs each call (the auth-server answers only signed ones); none: unsigned. */
  sign?: SignRequest
  /** Consecutive failures that open the breaker, and how long it stays open. Default 5, 5000 ms. */
  breaker?: { failureThreshold: number, cooldownMs: number }
  /** Most connections kept to the auth-server. Default 32. */
  connections?: number
  /** Most tokens in one call (POST /introspect/batch, which takes up to 64); default 64; 1: one call per token. */
  maxBatch?: number
  now?: () => number
}

export interface AuthClient {
  /** The token's owner when it may do this; rejects with a GatewayError otherwise. */
  authorize: (token: string, request: GrantRequest) => Promise<Principal>
  /** The cached answer without calling out: a Principal, a denial (a GatewayError), or undefined on a miss. */
  peek: (token: string, request: GrantRequest) => Cached<Principal> | undefined
  readonly breakerState: CircuitState
  /** How many unknown tokens are remembered, and the bytes they are counted as. */
  readonly denials: { count: number, bytes: number }
  close: () => Promise<void>
}

/** What the gateway knows of a token that is active. */
interface TokenRights {
  grants: Grant[]
  /** Its answer when a grant allows the request, made once. */
  allowed: { value: Principal }
}

/**
 * What one remembered unknown token is counted as: its digest (64 hex characters) and the
 * cache's bookkeeping around it, a little more than V8 takes for them.
 */
export const DENIAL_BYTES = 200
// Shared: a denial carries nothing of the request, so one error object serves every one.
const TOKEN_INVALID: { error: GatewayError } = { error: gatewayError('GW_TOKEN_INVALID') }
const FORBIDDEN: { error: GatewayError } = { error: gatewayError('GW_FORBIDDEN') }
/** read's answer for a 400: the request is refused as malformed, which is an answer. */
const REFUSED = Symbol('refused as malformed')

const isDenial = (error: unknown): boolean => error === TOKEN_INVALID.error
const isDependencyDown = (error: unknown): boolean => isGatewayError(error) && error.code === 'GW_DEPENDENCY_DOWN'

export function createAuthClient (options: AuthClientOptions): AuthClient {
  const timeoutMs = positiveNumber('timeoutMs', options.timeoutMs ?? 500)
  const maxGrantTtlMs = positiveNumber('maxGrantTtlMs', options.maxGrantTtlMs ?? 60_000)
  const denyTtlMs = nonNegativeNumber('denyTtlMs', options.denyTtlMs ?? 5000)
  const staleIfErrorMs = nonNegativeNumber('staleIfErrorMs', options.staleIfErrorMs ?? 3_600_000)
  const denyCacheBytes = positiveInteger('denyCacheBytes', options.denyCacheBytes ?? 4 * 1024 * 1024, DENIAL_BYTES)
  const cacheMax = positiveInteger('cacheMax', options.cacheMax)
  const now = options.now ?? Date.now
  const upstream = createUpstreamClient({
    name: 'auth-server',
    url: options.url,
    timeoutMs,
    connections: options.connections ?? 32,
    breaker: options.breaker ?? { failureThreshold: 5, cooldownMs: 5000 },
    sign: options.sign,
    now
  })

  /** One call to the auth-server: its answer as read reads it, or a GatewayError. */
  async function ask<T> (path: string, json: string, read: (body: unknown, answer: UpstreamAnswer) => T): Promise<T> {
    let answer: T | typeof REFUSED
    try {
      answer = await upstream.call({ method: 'POST', path, json }, async (answer) => {
        if (answer.statusCode === 400) {
          await answer.dump()
          return REFUSED
        }
        if (answer.statusCode !== 200) throw await answer.unexpectedStatus()
        return read(await answer.json(), answer)
      })
    } catch (err) {
      throw dependencyDown(err)
    }
    // Only a request the auth-server's schema refuses, such as an over-long token.
    if (answer === REFUSED) throw gatewayError('GW_BAD_REQUEST', 'the auth-server refused the request as malformed')
    return answer
  }

  /** The token's rights, or undefined when it is not active. */
  function introspect (token: string): Promise<Introspected | undefined> {
    return ask('/introspect', JSON.stringify({ token }), readIntrospected)
  }

  /** introspect for several tokens in one call (POST /introspect/batch). */
  async function introspectMany (tokens: string[]): Promise<Array<Introspected | undefined | Failed>> {
    try {
      return await ask('/introspect/batch', JSON.stringify({ tokens }), (body, answer) => {
        const answers = (body as { answers?: unknown } | null)?.answers
        if (!Array.isArray(answers) || answers.length !== tokens.length) throw answer.malformed('a batch that is not one answer per token')
        return answers.map((each: unknown) => readIntrospected(each, answer))
      })
    } catch (err) {
      // One token the auth-server finds malformed must not fail the others: each is asked alone.
      if (isGatewayError(err) && err.code === 'GW_BAD_REQUEST') return await Promise.all(tokens.map(settledIntrospect))
      throw err
    }
  }

  /** A token's own answer inside a batch asked again one by one: its failure is its alone. */
  function settledIntrospect (token: string): Promise<Introspected | undefined | Failed> {
    return introspect(token).catch((reason: unknown) => new Failed(reason))
  }

  const introspectBatched = createBatchCalls<string, Introspected | undefined | Failed>({
    maxBatch: options.maxBatch ?? 64,
    // A body of tokens written out as JSON escapes at worst (6 bytes a character) stays under this.
    maxWeight: 512 * 1024,
    weightOf: (token) => token.length * 6 + 3,
    one: introspect,
    many: introspectMany
  })

  /** The token's rights; rejects with GW_TOKEN_INVALID when it is not active or has expired. */
  async function load (token: string): Promise<TokenRights> {
    const answer = await introspectBatched(token)
    if (answer instanceof Failed) throw answer.reason
    const expiresAt = answer === undefined || answer.exp === null ? null : answer.exp * 1000
    if (answer === undefined || (expiresAt !== null && expiresAt <= now())) throw TOKEN_INVALID.error
    return {
      grants: answer.grants,
      // The digest is taken once per token loaded, never per request.
      allowed: {
        value: {
          owner_type: answer.owner_type,
          owner_id: answer.owner_id,
          expires_at: expiresAt,
          token_id: hashToken(token),
          ...(answer.max_sessions !== null && { max_sessions: answer.max_sessions })
        }
      }
    }
  }

  const denials = createFailureMemory<string>({
    keyOf: hashToken,
    maxBytes: denyCacheBytes,
    entryBytes: DENIAL_BYTES,
    // Memory a stranger made us take is given back within two denial lifetimes, looked up or not.
    sweepMs: Math.max(denyTtlMs, 100),
    now
  })
  // Keyed by the token as it is: only tokens the auth-server vouched for are kept here, every
  // request carries its token through memory anyway, and a digest per warm request would cost
  // more than any other step of it. Denials go to the failure memory, under the digest.
  const rights = createCachedLookup<string, TokenRights>(load, {
    max: cacheMax,
    ttlFor: () => maxGrantTtlMs,
    endOf: (known) => known.allowed.value.expires_at ?? Infinity,
    errorTtlFor: (error) => (isDenial(error) ? denyTtlMs : 0),
    endsValue: isDenial,
    failureMemory: denials,
    refreshAhead: 0.75,
    // staleIfErrorMs counts from when the rights were learned; the lookup counts past their TTL.
    staleIfError: { maxStaleMs: Math.max(0, staleIfErrorMs - maxGrantTtlMs), when: isDependencyDown, retryMs: 0 },
    // While the breaker refuses, a reload would only fail at once; the first use after it lets
    // a probe through tries again.
    mayReload: () => !upstream.refusing(),
    now
  })

  function peek (token: string, request: GrantRequest): Cached<Principal> | undefined {
    const hit = rights.peek(token)
    if (hit === undefined || 'error' in hit) return hit
    return grantAllows(hit.value.grants, request) ? hit.value.allowed : FORBIDDEN
  }

  return {
    authorize (token, request) {
      const hit = peek(token, request)
      if (hit !== undefined) return 'value' in hit ? Promise.resolve(hit.value) : Promise.reject(hit.error)
      return rights.get(token).then((known) => {
        if (!grantAllows(known.grants, request)) throw FORBIDDEN.error
        return known.allowed.value
      })
    },
    peek,
    get breakerState () { return upstream.breakerState },
    get denials () { return { count: denials.count, bytes: denials.bytes } },
    async close () {
      await upstream.close()
      denials.close()
      rights.clear()
    }
  }
}

interface Introspected {
  owner_type: string
  owner_id: string
  grants: Grant[]
  /** Seconds since the epoch; null: never expires. */
  exp: number | null
  /** null: no limit of its own (also when an older auth-server does not say). */
  max_sessions: number | null
}

/** A batch member's own failure, carried as its answer so that the others' stand. */
class Failed {
  constructor (readonly reason: unknown) {}
}

/** The rights in an introspection answer; undefined when inactive; null when malformed. */
function toIntrospected (answer: unknown): Introspected | undefined | null {
  if (typeof answer !== 'object' || answer === null) return null
  const { active, owner_type: ownerType, owner_id: ownerId, grants, exp, max_sessions: maxSessions } = answer as Record<string, unknown>
  if (active === false) return undefined
  if (active !== true || typeof ownerType !== 'string' || typeof ownerId !== 'string') return null
  if (exp !== null && !(typeof exp === 'number' && Number.isFinite(exp))) return null
  if (maxSessions != null && !(Number.isSafeInteger(maxSessions) && (maxSessions as number) >= 0)) return null
  if (!Array.isArray(grants)) return null
  const kept: Grant[] = []
  for (const grant of grants as unknown[]) {
    if (typeof grant !== 'object' || grant === null) return null
    const { object_type: type, object_id: id, rights } = grant as Record<string, unknown>
    if (typeof type !== 'string' || typeof id !== 'string' || !Array.isArray(rights) || !rights.every((r) => typeof r === 'string')) return null
    kept.push({ object_type: type, object_id: id, rights: rights as string[] })
  }
  return { owner_type: ownerType, owner_id: ownerId, grants: kept, exp, max_sessions: (maxSessions as number | null | undefined) ?? null }
}

/** An introspection answer read from an answer's body; a malformed one is the auth-server failing. */
function readIntrospected (body: unknown, answer: UpstreamAnswer): Introspected | undefined {
  const introspected = toIntrospected(body)
  if (introspected === null) throw answer.malformed('an introspection that is malformed')
  return introspected
}
