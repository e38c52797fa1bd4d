// One place that turns every failure into {"error": {"code", "message"}} with its status.

import type { FastifyError, FastifyInstance } from 'fastify'
import { errorBody, isGatewayError } from '../errors.js'

export function installErrorHandler (app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (isGatewayError(err)) {
      if (err.retryAfter !== undefined) void reply.header('retry-after', String(err.retryAfter))
      if (err.statusCode >= 500) request.log.warn({ code: err.code, cause: err.cause }, err.message)
      return reply.code(err.statusCode).send(errorBody(err.code, err.message))
    }
    if (err.validation !== undefined || err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
      (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 && err.code?.startsWith('FST_') === true)) {
      const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400
      const code = status === 400 ? 'GW_BAD_REQUEST' : `GW_HTTP_${status}`
      return reply.code(status).send(errorBody(code, err.message))
    }
    if (err.statusCode === 400 || (err as { status?: number }).status === 400) {
      return reply.code(400).send(errorBody('GW_BAD_REQUEST', err.message))
    }
    request.log.error({ err }, 'unexpected error')
    return reply.code(500).send(errorBody('GW_INTERNAL', 'an unexpected error inside geogate'))
  })
  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send(errorBody('GW_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`))
  })
}
