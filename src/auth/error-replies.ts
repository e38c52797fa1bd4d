// Renders every failure of the auth-server as the registry's JSON error body. A body can hold
// a token, so nothing here echoes a request's content: only codes and schema messages.

import type { FastifyError, FastifyInstance } from 'fastify'
import { errorBody, gatewayError, isGatewayError, type GatewayError } from '../errors.js'

export function replyWithGatewayErrors (app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const failure = toGatewayError(error)
    if (failure.statusCode >= 500) {
      request.log.error({ err: error }, failure.message)
    } else {
      request.log.info({ code: failure.code }, failure.message)
    }
    if (failure.retryAfter !== undefined) reply.header('retry-after', String(failure.retryAfter))
    return reply.code(failure.statusCode).send(errorBody(failure.code, failure.message))
  })
  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send(errorBody('GW_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`))
  })
}

function toGatewayError (error: FastifyError): GatewayError {
  if (isGatewayError(error)) return error
  // Schema messages name the field and the rule broken, never the value.
  if (error.validation !== undefined) return gatewayError('GW_BAD_REQUEST', error.message)
  const status = error.statusCode ?? 500
  if (status >= 400 && status < 500) {
    // Fastify's own errors (empty or invalid JSON, too large, wrong media type) carry fixed
    // messages; anything else might quote the body.
    const own = typeof error.code === 'string' && error.code.startsWith('FST_ERR_')
    return gatewayError('GW_BAD_REQUEST', own ? error.message : 'the request is malformed')
  }
  return gatewayError('GW_INTERNAL', undefined, { cause: error })
}
