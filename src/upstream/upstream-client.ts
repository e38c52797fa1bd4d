// Every client of another service (the resolver, the auth-server, ip-api, the partners' webhook
// targets; a node's control API next) is this one, configured: the same keep-alive pool, one
// deadline for the whole call, one breaker, signing, and one failure type (UpstreamError) with a
// stable code. What differs between upstreams is only how an answer is read, which each client
// passes to call(). As undici composes its interceptors, a behaviour every upstream needs is
// added here once, never to a copy in each client.
//
// The breaker counts what says the upstream is unusable (no answer in time, a broken
// connection, a status the client does not take, an answer it cannot read), never an answer
// the client reads, whatever it says (a 404 for an unknown address, a 400 for a malformed
// token, a 429 while rationed): a service that answers is up. While the breaker is open a call
// fails at once with UPSTREAM_UNAVAILABLE, without a request.

import { Pool, type Dispatcher } from 'undici'
import { createCircuitBreaker, type CircuitState } from './circuit-breaker.js'
import { DeadlineError, startDeadline } from './deadline.js'
import { positiveInteger, positiveNumber } from './number-options.js'
import { UpstreamError, isUpstreamError } from './upstream-error.js'

/** Headers that sign a call, from its method, path and body (the services' signer has this shape). */
export type SignCall = (method: string, path: string, body?: string) => Record<string, string>

export interface UpstreamClientOptions {
  /** What errors and logs call it: 'resolver', 'auth-server'. */
  name: string
  /** Its base URL (http or https); a call's path is appended to this URL's path. */
  url: string
  /** The longest one call may take, connecting and reading the body included (ms). */
  timeoutMs: number
  /** Most connections kept open to it. */
  connections: number
  /** Consecutive failures that open the breaker, and how long (ms) it stays open. */
  breaker: { failureThreshold: number, cooldownMs: number }
  /** Signs each call; none: unsigned. */
  sign?: SignCall
  now?: () => number
  /** Told of each failed call, with the breaker's state after it (for a debug log). */
  onFailure?: (error: UpstreamError, breaker: CircuitState) => void
}

export interface UpstreamRequest {
  method: 'GET' | 'POST' | 'DELETE'
  /** Appended to the base URL's path, query included: '/resolve?ip=1.2.3.4'. */
  path: string
  /** A JSON body, as text. */
  json?: string
  /**
   * Signs this call instead of the client's signer: calls to one origin may carry different
   * keys (each webhook target its own secret, over one pool).
   */
  sign?: SignCall
  /**
   * The caller took the breaker's leave itself (admit()), deciding key by key before keys are
   * batched; otherwise call() takes it.
   */
  admitted?: boolean
}

export interface UpstreamClient {
  readonly name: string
  /**
   * One call under the breaker and the deadline; read turns the answer, whatever its status,
   * into the value. A failure of the call, and anything read throws, rejects as an
   * UpstreamError and counts towards the breaker; what read returns counts as an answer.
   */
  call: <T>(request: UpstreamRequest, read: (answer: UpstreamAnswer) => Promise<T> | T) => Promise<T>
  /** Whether a call may go now, taking the half-open probe: for callers that pass admitted. */
  admit: () => boolean
  /** Whether the breaker would refuse a call now, without taking the probe. */
  refusing: () => boolean
  readonly breakerState: CircuitState
  /** Closes the pool once the calls in flight are over (each within its deadline). */
  close: () => Promise<void>
  /** Closes the pool at once: calls in flight fail with UPSTREAM_UNAVAILABLE. */
  destroy: () => Promise<void>
}

const ACCEPT_JSON: Readonly<Record<string, string>> = { accept: 'application/json' }
const SEND_JSON: Readonly<Record<string, string>> = { accept: 'application/json', 'content-type': 'application/json' }
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

export function createUpstreamClient (options: UpstreamClientOptions): UpstreamClient {
  const { name, sign, onFailure } = options
  const url = httpUrl(name, options.url)
  const timeoutMs = positiveNumber('timeoutMs', options.timeoutMs)
  const breaker = createCircuitBreaker({ ...options.breaker, now: options.now })
  const base = url.pathname.replace(/\/+$/, '')
  const pool = new Pool(url.origin, {
    connections: positiveInteger('connections', options.connections),
    pipelining: 1,
    // A connection is opened for the calls after this one too: one that takes longer than a
    // short deadline still serves the next call, so it gets at least a second.
    connect: { timeout: Math.max(1000, timeoutMs) },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    // Used when the upstream does not say how long it keeps an idle connection (a geogate
    // service says 72 s): the next call reuses it, as long as the upstream does.
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000
  })

  /** The failure of a call that got no answer: out of time, or no connection. */
  function noAnswer (err: unknown): UpstreamError {
    if (isUpstreamError(err)) return err
    if (err instanceof DeadlineError || TIMEOUT_CODES.has((err as { code?: unknown } | null)?.code as string)) {
      return new UpstreamError('UPSTREAM_TIMEOUT', name, `${name}: no answer within ${timeoutMs} ms`, { cause: err })
    }
    return new UpstreamError('UPSTREAM_UNAVAILABLE', name, `${name} did not answer`, { cause: err })
  }

  async function call<T> (request: UpstreamRequest, read: (answer: UpstreamAnswer) => Promise<T> | T): Promise<T> {
    if (request.admitted !== true && !breaker.canRequest()) {
      throw new UpstreamError('UPSTREAM_UNAVAILABLE', name, `${name} has been failing; not asked for a while`)
    }
    const { method, json } = request
    const path = base + request.path
    const headers = json === undefined ? ACCEPT_JSON : SEND_JSON
    const signCall = request.sign ?? sign
    const deadline = startDeadline(timeoutMs)
    try {
      let response: Dispatcher.ResponseData
      try {
        response = await pool.request({
          method,
          path,
          headers: signCall === undefined ? headers : { ...headers, ...signCall(method, path, json) },
          body: json,
          signal: deadline.signal
        })
      } catch (err) {
        throw noAnswer(err)
      }
      const value = await read(new UpstreamAnswer(name, response, noAnswer))
      breaker.recordSuccess()
      return value
    } catch (err) {
      const failure = isUpstreamError(err)
        ? err
        : new UpstreamError('UPSTREAM_MALFORMED', name, `${name}'s answer could not be read`, { cause: err })
      breaker.recordFailure()
      onFailure?.(failure, breaker.state)
      throw failure
    } finally {
      deadline.clear()
    }
  }

  let closing: Promise<void> | undefined
  return {
    name,
    call,
    admit: () => breaker.canRequest(),
    refusing: () => breaker.refusing(),
    get breakerState () { return breaker.state },
    close () {
      closing ??= pool.close()
      return closing
    },
    async destroy () {
      await pool.destroy()
    }
  }
}

/** An answer as a client's read sees it: its status and headers, and its body read one way. */
export class UpstreamAnswer {
  readonly statusCode: number
  readonly headers: Dispatcher.ResponseData['headers']
  readonly #upstream: string
  readonly #body: Dispatcher.ResponseData['body']
  readonly #noAnswer: (err: unknown) => UpstreamError

  constructor (upstream: string, response: Dispatcher.ResponseData, noAnswer: (err: unknown) => UpstreamError) {
    this.statusCode = response.statusCode
    this.headers = response.headers
    this.#upstream = upstream
    this.#body = response.body
    this.#noAnswer = noAnswer
  }

  /** The body as JSON: UPSTREAM_MALFORMED when it is not JSON, as a call with no answer when it breaks off. */
  async json (): Promise<unknown> {
    try {
      return await this.#body.json()
    } catch (err) {
      if (err instanceof SyntaxError) throw new UpstreamError('UPSTREAM_MALFORMED', this.#upstream, `${this.#upstream}'s answer is not JSON`, { cause: err })
      throw this.#noAnswer(err)
    }
  }

  /** The body as text (a node's control answer is a bare count): as a call with no answer when it breaks off. */
  async text (): Promise<string> {
    try {
      return await this.#body.text()
    } catch (err) {
      throw this.#noAnswer(err)
    }
  }

  /** Drops the body unread (an answer whose status says all). */
  async dump (): Promise<void> {
    await this.#body.dump().catch(() => {})
  }

  /** The failure for an answer that is not the agreed shape; what says what was wrong. */
  malformed (what: string): UpstreamError {
    return new UpstreamError('UPSTREAM_MALFORMED', this.#upstream, `${this.#upstream} answered ${what}`)
  }

  /**
   * The failure for a status the client does not take. A 401 whose body says
   * GW_SERVICE_UNAUTHORIZED is the upstream refusing this gateway's signature: no key or
   * token is at fault, and the message says where to look.
   */
  async unexpectedStatus (): Promise<UpstreamError> {
    const status = this.statusCode
    if (status === 401 && await this.#refusesSignature()) {
      return new UpstreamError('UPSTREAM_STATUS', this.#upstream, `${this.#upstream} refused this gateway's signature; check SERVICE_KEYS`, { status })
    }
    await this.dump()
    return new UpstreamError('UPSTREAM_STATUS', this.#upstream, `${this.#upstream} answered ${status}`, { status })
  }

  async #refusesSignature (): Promise<boolean> {
    let answer: unknown
    try {
      answer = await this.#body.json()
    } catch {
      return false
    }
    return (answer as { error?: { code?: unknown } } | null)?.error?.code === 'GW_SERVICE_UNAUTHORIZED'
  }
}

function httpUrl (name: string, url: string): URL {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new TypeError(`${name}'s URL must be an absolute http(s) URL, got '${url}'`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`${name}'s URL must be an http or https URL, got '${url}'`)
  }
  return parsed
}
