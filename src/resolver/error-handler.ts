// Renders every failure of the resolver as {"error": {"code", "message"}} with the status
// from the error registry; schema failures are GW_BAD_REQUEST.

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { errorBody, gatewayError, isGatewayError } from '../errors.js'

export function installErrorHandler (app: FastifyInstance, onBadRequest?: (request: FastifyRequest) => void): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    let failure = isGatewayError(error) ? error : undefined
    if (failure === undefined) {
      if (error.validation !== undefined || (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)) {
        failure = gatewayError('GW_BAD_REQUEST', error.message)
      } else {
        request.log.error({ err: error }, 'resolver request failed')
        failure = gatewayError('GW_INTERNAL')
      }
    }
    if (failure.statusCode === 400) onBadRequest?.(request)
    if (failure.retryAfter !== undefined) reply.header('retry-after', String(failure.retryAfter))
    return reply.code(failure.statusCode).send(errorBody(failure.code, failure.message))
  })
  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send(errorBody('GW_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`))
  })
}
