// One place that turns every failure into {"error": {"code", "message"}} with its status.

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { errorBody, isGatewayError } from '../errors.js'

export interface RenderedError {
  status: number
  code: string
  message: string
  retryAfter?: number
}

/** What an error becomes on the wire: a registry error as it is, a framework 4xx by its status. */
export function renderError (err: FastifyError): RenderedError {
  if (isGatewayError(err)) {
    return { status: err.statusCode, code: err.code, message: err.message, ...(err.retryAfter !== undefined && { retryAfter: err.retryAfter }) }
  }
  const status = err.statusCode ?? (err as { status?: number }).status
  // Validation, unparseable bodies and the like: Fastify's own 4xx errors.
  if (err.validation !== undefined || (status !== undefined && status >= 400 && status < 500)) {
    const client = status !== undefined && status >= 400 && status < 500 ? status : 400
    return { status: client, code: client === 400 ? 'GW_BAD_REQUEST' : `GW_HTTP_${client}`, message: err.message }
  }
  return { status: 500, code: 'GW_INTERNAL', message: 'an unexpected error inside geogate' }
}

/** Sends a rendered error, logging what needs a look. */
export function sendRendered (request: FastifyRequest, reply: FastifyReply, err: FastifyError, rendered: RenderedError): FastifyReply {
  if (rendered.retryAfter !== undefined) void reply.header('retry-after', String(rendered.retryAfter))
  if (rendered.code === 'GW_INTERNAL') request.log.error({ err }, 'unexpected error')
  else if (rendered.status >= 500) request.log.warn({ code: rendered.code, cause: err.cause }, rendered.message)
  return reply.code(rendered.status).send(errorBody(rendered.code, rendered.message))
}

export function installErrorHandler (app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => sendRendered(request, reply, err, renderError(err)))
  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send(errorBody('GW_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`))
  })
}
