// The gateway's client of the auth-server (DESIGN section 2.4): grants cached no longer than the
// token lives, denials cached briefly, concurrent misses for one question coalesced into one
// call, and an auth-server that cannot answer is a 503, never an open door.

import { Pool, type Dispatcher } from 'undici'
import { createCachedLookup, type Cached } from '../cache/cached-lookup.js'
import { gatewayError, isGatewayError } from '../errors.js'
import type { GrantRequest } from './grants.js'
import { startDeadline } from '../upstream/deadline.js'
import type { SignRequest } from '../signing/service-request.js'

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
  /** Most answers kept. */
  cacheMax: number
  /** Longest a grant is trusted without asking again (ms). Default 60000. */
  maxGrantTtlMs?: number
  /** How long a 401 or 403 is remembered (ms). Default 5000. */
  denyTtlMs?: number
  /** Signs each call (the auth-server answers only signed ones); none: unsigned. */
  sign?: SignRequest
  /** Most connections kept to the auth-server. Default 32. */
  connections?: number
  now?: () => number
}

export interface AuthClient {
  /** The token's owner when it may do this; rejects with a GatewayError otherwise. */
  authorize: (token: string, request: GrantRequest) => Promise<Principal>
  /** The cached answer without calling out: a Principal, a denial (a GatewayError), or undefined on a miss. */
  peek: (token: string, request: GrantRequest) => Cached<Principal> | undefined
  close: () => Promise<void>
}

export function createAuthClient (options: AuthClientOptions): AuthClient {
  const timeoutMs = positive(options.timeoutMs ?? 500, 'timeoutMs')
  const maxGrantTtlMs = positive(options.maxGrantTtlMs ?? 60_000, 'maxGrantTtlMs')
  const denyTtlMs = nonNegative(options.denyTtlMs ?? 5000, 'denyTtlMs')
  const now = options.now ?? Date.now
  const { sign } = options
  const { origin, path } = authorizeUrl(options.url)

  const pool = new Pool(origin, {
    connections: options.connections ?? 32,
    connectTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000
  })

  // The key says the whole question, so any load — a miss in authorize, or the background
  // reload that a hit late in a grant's life starts from peek — asks the auth-server from it.
  const lookup = createCachedLookup<string, Principal>((key) => {
    const { token, request } = questionOf(key)
    return ask(token, request)
  }, {
    max: options.cacheMax,
    now,
    ttlFor: (principal) => principal.expires_at === null
      ? maxGrantTtlMs
      : Math.min(maxGrantTtlMs, principal.expires_at - now()),
    errorTtlFor: (error) => isGatewayError(error) && (error.code === 'GW_TOKEN_INVALID' || error.code === 'GW_FORBIDDEN')
      ? denyTtlMs
      : 0
  })

  async function ask (token: string, request: GrantRequest): Promise<Principal> {
    const deadline = startDeadline(timeoutMs)
    try {
      return await askWithin(token, request, deadline.signal)
    } finally {
      deadline.clear()
    }
  }

  async function askWithin (token: string, request: GrantRequest, signal: AbortSignal): Promise<Principal> {
    let response
    const question = JSON.stringify({ token, rights: request.rights, object_type: request.object_type, object_id: request.object_id })
    try {
      response = await pool.request({
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', ...sign?.('POST', path, question) },
        body: question,
        signal
      })
    } catch (err) {
      throw gatewayError('GW_DEPENDENCY_DOWN', 'the auth-server did not answer', { cause: err })
    }
    const { statusCode, body } = response
    if (statusCode === 401 && await refusesThisGateway(body)) {
      throw gatewayError('GW_DEPENDENCY_DOWN', 'the auth-server refused this gateway\'s signature; check SERVICE_KEYS')
    }
    if (statusCode !== 200) {
      await body.dump().catch(() => {})
      if (statusCode === 401) throw gatewayError('GW_TOKEN_INVALID')
      if (statusCode === 403) throw gatewayError('GW_FORBIDDEN')
      // Only a request the auth-server's schema refuses, such as an over-long id.
      if (statusCode === 400) throw gatewayError('GW_BAD_REQUEST', 'the auth-server refused the request as malformed')
      throw gatewayError('GW_DEPENDENCY_DOWN', `the auth-server answered ${statusCode}`)
    }
    let answer: unknown
    try {
      answer = await body.json()
    } catch (err) {
      throw gatewayError('GW_DEPENDENCY_DOWN', 'the auth-server\'s answer is not JSON', { cause: err })
    }
    const principal = toPrincipal(answer)
    if (principal === undefined) throw gatewayError('GW_DEPENDENCY_DOWN', 'the auth-server\'s answer is malformed')
    return principal
  }

  let closing: Promise<void> | undefined
  return {
    authorize (token, request) {
      try {
        return lookup.get(cacheKey(token, request))
      } catch (err) {
        return Promise.reject(err)
      }
    },
    peek: (token, request) => lookup.peek(cacheKey(token, request)),
    close () {
      closing ??= pool.close().finally(() => lookup.clear())
      return closing
    }
  }
}

// The token, then the request's fields, a line each. The request's fields hold no newline
// (the routes' schemas see to it, and cacheKey refuses one), so the last three lines are
// theirs and the rest, newlines and all, is the token: keys cannot collide, and a key reads
// back into its question. The token is the key as it is: every request carries it through
// this process's memory anyway, and a sha256 per cache hit cost more than any other step of
// a warm request. It never leaves memory: not logged, not stored, not sent anywhere but to
// the auth-server.
function cacheKey (token: string, request: GrantRequest): string {
  if (request.rights.includes('\n') || request.object_type.includes('\n') || request.object_id.includes('\n')) {
    throw gatewayError('GW_BAD_REQUEST', 'a right, object type or object id holds a newline')
  }
  return `${token}\n${request.rights}\n${request.object_type}\n${request.object_id}`
}

function questionOf (key: string): { token: string, request: GrantRequest } {
  const id = key.lastIndexOf('\n')
  const type = key.lastIndexOf('\n', id - 1)
  const rights = key.lastIndexOf('\n', type - 1)
  return {
    token: key.slice(0, rights),
    request: { rights: key.slice(rights + 1, type), object_type: key.slice(type + 1, id), object_id: key.slice(id + 1) }
  }
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

function toPrincipal (answer: unknown): Principal | undefined {
  if (typeof answer !== 'object' || answer === null) return undefined
  const { owner_type: ownerType, owner_id: ownerId, expires_at: expiresAt } = answer as Record<string, unknown>
  if (typeof ownerType !== 'string' || typeof ownerId !== 'string') return undefined
  if (expiresAt === null) return { owner_type: ownerType, owner_id: ownerId, expires_at: null }
  if (typeof expiresAt !== 'string') return undefined
  const at = Date.parse(expiresAt)
  return Number.isFinite(at) ? { owner_type: ownerType, owner_id: ownerId, expires_at: at } : undefined
}

function authorizeUrl (url: string): { origin: string, path: string } {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new TypeError(`url must be an absolute http(s) URL, got '${url}'`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`url must be an http or https URL, got '${parsed.protocol}'`)
  }
  return { origin: parsed.origin, path: `${parsed.pathname.replace(/\/+$/, '')}/authorize` }
}

function positive (value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number of milliseconds`)
  return value
}

function nonNegative (value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`${name} must be zero or a positive number of milliseconds`)
  return value
}
