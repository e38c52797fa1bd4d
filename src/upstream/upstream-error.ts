// The one failure every upstream client reports, whichever service it calls: a stable code for
// what went wrong, the upstream's name and, for an unexpected answer, its status. Clients decide
// what a failure means to them (the resolver's is a fallback to the local database, ip-api's a
// skip to the next provider, the auth-server's a 503) by the code, not by the error's class or
// message, so a new upstream adds no error type of its own.

import { gatewayError } from '../errors.js'

export type UpstreamErrorCode =
  /** No answer: refused or broken connection, a closed client, or the breaker open. */
  | 'UPSTREAM_UNAVAILABLE'
  /** No whole answer within the call's deadline. */
  | 'UPSTREAM_TIMEOUT'
  /** An answer with a status the client does not take (5xx, a refused signature). */
  | 'UPSTREAM_STATUS'
  /** An answer the client cannot read: not JSON, or not the shape agreed. */
  | 'UPSTREAM_MALFORMED'

export class UpstreamError extends Error {
  readonly code: UpstreamErrorCode
  /** The upstream's name, as its client was configured: 'resolver', 'auth-server'. */
  readonly upstream: string
  /** The answer's status, for UPSTREAM_STATUS. */
  readonly status: number | undefined

  constructor (code: UpstreamErrorCode, upstream: string, message: string, options: { status?: number, cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'UpstreamError'
    this.code = code
    this.upstream = upstream
    this.status = options.status
  }
}

export function isUpstreamError (err: unknown): err is UpstreamError {
  return err instanceof UpstreamError
}

/**
 * What a request learns when an upstream it cannot do without fails: GW_DEPENDENCY_DOWN (503),
 * saying which and why. Anything else is passed on as it is.
 */
export function dependencyDown (err: unknown): unknown {
  return isUpstreamError(err) ? gatewayError('GW_DEPENDENCY_DOWN', err.message, { cause: err }) : err
}
