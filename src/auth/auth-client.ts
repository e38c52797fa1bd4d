// The gateway's client of the auth-server (docs/design.md section 2.4). It asks once per token what the
// token may do (`POST /introspect`, after RFC 7662) and decides every object itself with the
// auth-server's own grantAllows, so a viewer's rights are learned once, not once per camera.
//
// - A token's rights are cached no longer than maxGrantTtlMs nor past its expiry, and reloaded
//   in the background while in use late in that life: a revoked token is refused within
//   maxGrantTtlMs on every gateway.
// - Concurrent misses for one token share one call, and misses for many tokens within one
//   event-loop turn share one call too (POST /introspect/batch, src/upstream/batch-calls.ts).
// - When the auth-server cannot answer (down, 5xx, timed out, its breaker open), a token's last
//   known rights keep answering for up to staleIfErrorMs after they were learned (stale-if-
//   error); a token never seen is a 503, at once while the breaker is open.
// - Unknown tokens are remembered under their digest, not themselves, in a cache capped in
//   bytes and purged as entries expire: strangers cannot make the gateway hold their tokens.

import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { Pool, type Dispatcher } from 'undici'
import type { Cached } from '../cache/cached-lookup.js'
import { gatewayError, isGatewayError, type GatewayError } from '../errors.js'
import type { Grant } from '../store/documents.js'
import { createCircuitBreaker, type CircuitState } from '../upstream/circuit-breaker.js'
import { startDeadline } from '../upstream/deadline.js'
import { createBatchCalls } from '../upstream/batch-calls.js'
import type { SignRequest } from '../signing/service-request.js'
import { grantAllows, type GrantRequest } from './grants.js'

export interface Principal {
  owner_type: string
  owner_id: string
  /** When the token expires (ms since the epoch); null: never. */
  expires_at: number | null
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
  /** Until when (the clock's ms) the rights are trusted, when a use reloads them, until when they may answer stale. */
  freshUntil: number
  refreshAt: number
  staleUntil: number
  /** The last reload failed: until staleUntil the rights answer while reloads are retried. */
  failing: boolean
}

/**
 * What one remembered unknown token is counted as: its digest (43 characters) and the cache's
 * bookkeeping around it, a little more than V8 takes for them.
 */
export const DENIAL_BYTES = 200
const REFRESH_AHEAD = 0.75
// Shared: a denial carries nothing of the request, so one error object serves every one.
const TOKEN_INVALID: { error: GatewayError } = { error: gatewayError('GW_TOKEN_INVALID') }
const FORBIDDEN: { error: GatewayError } = { error: gatewayError('GW_FORBIDDEN') }

export function createAuthClient (options: AuthClientOptions): AuthClient {
  const timeoutMs = positive(options.timeoutMs ?? 500, 'timeoutMs')
  const maxGrantTtlMs = positive(options.maxGrantTtlMs ?? 60_000, 'maxGrantTtlMs')
  const denyTtlMs = nonNegative(options.denyTtlMs ?? 5000, 'denyTtlMs')
  const staleIfErrorMs = nonNegative(options.staleIfErrorMs ?? 3_600_000, 'staleIfErrorMs')
  const denyCacheBytes = options.denyCacheBytes ?? 4 * 1024 * 1024
  if (!Number.isInteger(denyCacheBytes) || denyCacheBytes < DENIAL_BYTES) throw new TypeError(`denyCacheBytes must be a whole number of at least ${DENIAL_BYTES}`)
  if (!Number.isInteger(options.cacheMax) || options.cacheMax < 1) throw new TypeError('cacheMax must be a positive integer')
  const now = options.now ?? Date.now
  const { sign } = options
  const { origin, path } = introspectUrl(options.url)
  const batchPath = `${path}/batch`
  const maxBatch = options.maxBatch ?? 64
  const breaker = createCircuitBreaker({ failureThreshold: 5, cooldownMs: 5000, ...options.breaker, now })

  const pool = new Pool(origin, {
    connections: options.connections ?? 32,
    connectTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000
  })

  // Keyed by the token as it is: only tokens the auth-server vouched for get here, every
  // request carries its token through memory anyway, and a digest per warm request would
  // cost more than any other step of it. Their times are kept in the entries, not by the LRU.
  const rights = new LRUCache<string, TokenRights>({ max: options.cacheMax })
  const denials = new LRUCache<string, true>({
    maxSize: denyCacheBytes,
    sizeCalculation: () => DENIAL_BYTES,
    ttl: Math.max(denyTtlMs, 1),
    ttlResolution: 0,
    allowStale: false,
    perf: { now }
  })
  // An expired denial is dropped when it is next looked up, and the rest by this sweep: memory a
  // stranger made us take is given back within two denial lifetimes, looked up or not.
  const sweep = setInterval(() => denials.purgeStale(), Math.max(denyTtlMs, 100))
  sweep.unref()
  const inflight = new Map<string, Promise<TokenRights>>()

  function decide (entry: TokenRights, request: GrantRequest): Cached<Principal> {
    return grantAllows(entry.grants, request) ? entry.allowed : FORBIDDEN
  }

  function peek (token: string, request: GrantRequest): Cached<Principal> | undefined {
    const entry = rights.get(token)
    if (entry !== undefined) {
      const at = now()
      if (at < entry.freshUntil) {
        if (at >= entry.refreshAt) reloadInBackground(token)
        return decide(entry, request)
      }
      if (entry.failing && at < entry.staleUntil) {
        reloadInBackground(token)
        return decide(entry, request)
      }
      return undefined
    }
    if (denyTtlMs > 0 && denials.size > 0 && denials.get(digest(token)) !== undefined) return TOKEN_INVALID
    return undefined
  }

  function reloadInBackground (token: string): void {
    // While the breaker refuses, a reload would only fail at once; the next use after it
    // lets a probe through tries again.
    if (inflight.has(token) || breaker.refusing()) return
    // Its failure is dealt with in load; the cached rights answer meanwhile.
    load(token).catch(() => {})
  }

  function load (token: string): Promise<TokenRights> {
    const pending = inflight.get(token)
    if (pending !== undefined) return pending
    const started = introspectBatched(token).then(
      (answer) => {
        const entry = answer === undefined ? undefined : rightsOf(answer)
        if (entry === undefined) {
          rights.delete(token)
          if (denyTtlMs > 0) denials.set(digest(token), true)
          throw TOKEN_INVALID.error
        }
        rights.set(token, entry)
        return entry
      },
      (error: unknown) => {
        // No answer (a denial is not a failure): serve what was last known.
        const known = rights.peek(token)
        if (known !== undefined && isGatewayError(error) && error.code === 'GW_DEPENDENCY_DOWN' && now() < known.staleUntil) {
          known.failing = true
          return known
        }
        throw error
      }
    ).finally(() => inflight.delete(token))
    inflight.set(token, started)
    return started
  }

  function rightsOf (answer: Introspected): TokenRights | undefined {
    const at = now()
    const expiresAt = answer.exp === null ? null : answer.exp * 1000
    if (expiresAt !== null && expiresAt <= at) return undefined
    const ends = expiresAt ?? Infinity
    const freshUntil = Math.min(at + maxGrantTtlMs, ends)
    return {
      grants: answer.grants,
      allowed: { value: { owner_type: answer.owner_type, owner_id: answer.owner_id, expires_at: expiresAt } },
      freshUntil,
      refreshAt: at + (freshUntil - at) * REFRESH_AHEAD,
      staleUntil: Math.min(at + Math.max(staleIfErrorMs, maxGrantTtlMs), ends),
      failing: false
    }
  }

  /** One call to the auth-server, under the breaker and the deadline. */
  async function call<T> (path: string, question: string, read: (body: Dispatcher.ResponseData['body']) => Promise<T>): Promise<T> {
    if (!breaker.canRequest()) throw gatewayError('GW_DEPENDENCY_DOWN', 'the auth-server is failing; not asked for a while')
    const deadline = startDeadline(timeoutMs)
    try {
      const answer = await askWithin(path, question, deadline.signal, read)
      breaker.recordSuccess()
      return answer
    } catch (err) {
      if (isUnavailable(err)) breaker.recordFailure()
      else breaker.recordSuccess()
      throw err
    } finally {
      deadline.clear()
    }
  }

  async function askWithin<T> (path: string, question: string, signal: AbortSignal, read: (body: Dispatcher.ResponseData['body']) => Promise<T>): Promise<T> {
    let response
    try {
      response = await pool.request({
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', ...sign?.('POST', path, question) },
        body: question,
        signal
      })
    } catch (err) {
      throw unavailable('the auth-server did not answer', err)
    }
    const { statusCode, body } = response
    if (statusCode === 401 && await refusesThisGateway(body)) {
      throw unavailable('the auth-server refused this gateway\'s signature; check SERVICE_KEYS')
    }
    if (statusCode !== 200) {
      await body.dump().catch(() => {})
      // Only a request the auth-server's schema refuses, such as an over-long token.
      if (statusCode === 400) throw gatewayError('GW_BAD_REQUEST', 'the auth-server refused the request as malformed')
      throw unavailable(`the auth-server answered ${statusCode}`)
    }
    return await read(body)
  }

  /** The token's rights, or undefined when it is not active; rejects when there is no answer. */
  function introspect (token: string): Promise<Introspected | undefined> {
    return call(path, JSON.stringify({ token }), async (body) => {
      const introspected = toIntrospected(await json(body))
      if (introspected === null) throw unavailable('the auth-server\'s answer is malformed')
      return introspected
    })
  }

  /** introspect for several tokens in one call (POST /introspect/batch). */
  async function introspectMany (tokens: string[]): Promise<Array<Introspected | undefined | Failed>> {
    try {
      return await call(batchPath, JSON.stringify({ tokens }), async (body) => {
        const { answers } = await json(body) as { answers?: unknown }
        if (!Array.isArray(answers) || answers.length !== tokens.length) throw unavailable('the auth-server\'s batch answer is malformed')
        return answers.map((answer: unknown) => {
          const introspected = toIntrospected(answer)
          if (introspected === null) throw unavailable('the auth-server\'s answer is malformed')
          return introspected
        })
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

  const ask = createBatchCalls<string, Introspected | undefined | Failed>({
    maxBatch,
    // A body of tokens written out as JSON escapes at worst (6 bytes a character) stays under this.
    maxWeight: 512 * 1024,
    weightOf: (token) => token.length * 6 + 3,
    one: introspect,
    many: introspectMany
  })

  async function introspectBatched (token: string): Promise<Introspected | undefined> {
    const answer = await ask(token)
    if (answer instanceof Failed) throw answer.reason
    return answer
  }

  let closing: Promise<void> | undefined
  return {
    authorize (token, request) {
      const hit = peek(token, request)
      if (hit !== undefined) return 'value' in hit ? Promise.resolve(hit.value) : Promise.reject(hit.error)
      return load(token).then((entry) => {
        const decided = decide(entry, request)
        if ('error' in decided) throw decided.error
        return decided.value
      })
    },
    peek,
    get breakerState () { return breaker.state },
    get denials () { return { count: denials.size, bytes: denials.calculatedSize } },
    close () {
      closing ??= pool.close().finally(() => {
        clearInterval(sweep)
        rights.clear()
        denials.clear()
      })
      return closing
    }
  }
}

interface Introspected {
  owner_type: string
  owner_id: string
  grants: Grant[]
  /** Seconds since the epoch; null: never expires. */
  exp: number | null
}

const UNAVAILABLE = Symbol('auth-server unavailable')

/** A batch member's own failure, carried as its answer so that the others' stand. */
class Failed {
  constructor (readonly reason: unknown) {}
}

async function json (body: Dispatcher.ResponseData['body']): Promise<unknown> {
  try {
    return await body.json()
  } catch (err) {
    throw unavailable('the auth-server\'s answer is not JSON', err)
  }
}

/** GW_DEPENDENCY_DOWN, marked as the auth-server's failure to answer: what the breaker counts. */
function unavailable (message: string, cause?: unknown): GatewayError {
  return Object.assign(gatewayError('GW_DEPENDENCY_DOWN', message, { cause }), { [UNAVAILABLE]: true })
}

function isUnavailable (err: unknown): boolean {
  return typeof err === 'object' && err !== null && UNAVAILABLE in err
}

function digest (token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

/** The rights in an introspection answer; undefined when inactive; null when malformed. */
function toIntrospected (answer: unknown): Introspected | undefined | null {
  if (typeof answer !== 'object' || answer === null) return null
  const { active, owner_type: ownerType, owner_id: ownerId, grants, exp } = answer as Record<string, unknown>
  if (active === false) return undefined
  if (active !== true || typeof ownerType !== 'string' || typeof ownerId !== 'string') return null
  if (exp !== null && !(typeof exp === 'number' && Number.isFinite(exp))) return null
  if (!Array.isArray(grants)) return null
  const kept: Grant[] = []
  for (const grant of grants as unknown[]) {
    if (typeof grant !== 'object' || grant === null) return null
    const { object_type: type, object_id: id, rights } = grant as Record<string, unknown>
    if (typeof type !== 'string' || typeof id !== 'string' || !Array.isArray(rights) || !rights.every((r) => typeof r === 'string')) return null
    kept.push({ object_type: type, object_id: id, rights: rights as string[] })
  }
  return { owner_type: ownerType, owner_id: ownerId, grants: kept, exp }
}

function introspectUrl (url: string): { origin: string, path: string } {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new TypeError(`url must be an absolute http(s) URL, got '${url}'`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`url must be an http or https URL, got '${parsed.protocol}'`)
  }
  return { origin: parsed.origin, path: `${parsed.pathname.replace(/\/+$/, '')}/introspect` }
}

function positive (value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number of milliseconds`)
  return value
}

function nonNegative (value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`${name} must be zero or a positive number of milliseconds`)
  return value
}

// A 401 is the token's unless the auth-server says the call itself was refused: then no
// token is at fault, and the answer must not be cached as a denial.
async function refusesThisGateway (body: Dispatcher.ResponseData['body']): Promise<boolean> {
  let answer: unknown
  try {
    answer = await body.json()
  } catch {
    return false
  }
  return (answer as { error?: { code?: unknown } } | null)?.error?.code === 'GW_SERVICE_UNAUTHORIZED'
}
