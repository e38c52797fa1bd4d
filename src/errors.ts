// One registry of every error geogate answers with. Handlers throw these; one error handler
// renders them as {"error": {"code", "message"}}. Codes are stable: clients match on them.

export interface ErrorSpec {
  readonly status: number
  readonly description: string
  /** Seconds a client should wait before retrying; sent as Retry-After. */
  readonly retryAfter?: number
}

export const errorRegistry = {
  GW_BAD_REQUEST: { status: 400, description: 'a parameter is missing, malformed or too long' },
  GW_TOKEN_MISSING: { status: 401, description: 'no access token was sent' },
  GW_TOKEN_INVALID: { status: 401, description: 'the access token is unknown or expired' },
  GW_SERVICE_UNAUTHORIZED: { status: 401, description: 'the call is not signed by a known service: signature missing, malformed, wrong, stale or replayed' },
  GW_FORBIDDEN: { status: 403, description: 'the token has no right to do this to that object' },
  GW_GRANT_IN_USE: { status: 403, description: 'the signed HLS URL already serves as many viewer addresses as its tariff allows' },
  GW_SESSION_ENDED: { status: 403, description: 'the play was ended by an operator, or by the revocation of its token or the suspension of its account' },
  GW_GEO_BLOCKED: { status: 403, description: 'the camera, the account or its tariff does not allow viewers in the client\'s country' },
  GW_BILLING_BLOCKED: { status: 402, description: 'the account is suspended, or its tariff does not include this format or pattern' },
  GW_LIMIT_EXCEEDED: { status: 429, description: 'the account is at its tariff\'s limit of concurrent streams', retryAfter: 10 },
  GW_TOKEN_LIMIT: { status: 429, description: 'the access token already feeds as many viewers at once as its max_sessions allows', retryAfter: 10 },
  GW_SERVER_NOT_FOUND: { status: 404, description: 'no video server has this UIN' },
  GW_CAMERA_NOT_FOUND: { status: 404, description: 'the video server has no such camera' },
  GW_NOT_FOUND: { status: 404, description: 'no such route or document' },
  GW_CONFLICT: { status: 409, description: 'a document with this id already exists' },
  GW_SESSION_GONE: { status: 410, description: 'the HLS session this steering URL names is over: its lease ran out or it reached its longest duration' },
  GW_BODY_TOO_LARGE: { status: 413, description: 'the request body is larger than the route accepts' },
  GW_UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'the request body\'s Content-Type is not one the route accepts' },
  GW_SERVER_OFFLINE: { status: 503, description: 'the video server is offline', retryAfter: 10 },
  GW_CAMERA_OFFLINE: { status: 503, description: 'the camera is offline', retryAfter: 10 },
  GW_NO_NODE: { status: 503, description: 'no streaming node can take this stream now', retryAfter: 5 },
  GW_DEPENDENCY_DOWN: { status: 503, description: 'a service geogate depends on is unreachable', retryAfter: 2 },
  GW_INTERNAL: { status: 500, description: 'an unexpected error inside geogate' }
} as const satisfies Record<string, ErrorSpec>

export type ErrorCode = keyof typeof errorRegistry

export class GatewayError extends Error {
  readonly code: ErrorCode
  readonly statusCode: number
  readonly retryAfter: number | undefined

  constructor (code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    const spec: ErrorSpec = errorRegistry[code]
    super(message ?? spec.description, options)
    this.name = 'GatewayError'
    this.code = code
    this.statusCode = spec.status
    this.retryAfter = spec.retryAfter
  }
}

export function gatewayError (code: ErrorCode, message?: string, options?: { cause?: unknown }): GatewayError {
  return new GatewayError(code, message, options)
}

export function isGatewayError (err: unknown): err is GatewayError {
  return err instanceof GatewayError
}

/** The JSON body every error response carries. */
export interface ErrorBody {
  error: { code: string, message: string }
}

export function errorBody (code: string, message: string): ErrorBody {
  return { error: { code, message } }
}
