// The one error renderer of every geogate app (gateway, resolver, auth-server): whatever fails,
// the client gets {"error": {"code", "message"}} with a code from the registry (src/errors.ts)
// and that code's status. A request body can hold a token, so nothing here echoes a request's
// content: only codes, fixed messages and schema messages (which name the field, not the value).

import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { errorBody, isGatewayError, type ErrorCode } from '../errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Headers a route's errors carry as well as its answers (CORS, cache control). */
    errorHeaders?: Record<string, string>
  }
}

export interface RenderedError {
  status: number
  code: ErrorCode
  message: string
  retryAfter?: number
}

/** Fastify's own client errors that have a code of their own in the registry. */
const frameworkCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'GW_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'GW_BODY_TOO_LARGE'
}
const statusOf: Partial<Record<ErrorCode, number>> = { GW_UNSUPPORTED_MEDIA_TYPE: 415, GW_BODY_TOO_LARGE: 413 }

/** What an error becomes on the wire. */
export function renderError (err: FastifyError): RenderedError {
  if (isGatewayError(err)) {
    return { status: err.statusCode, code: err.code, message: err.message, ...(err.retryAfter !== undefined && { retryAfter: err.retryAfter }) }
  }
  if (err.validation !== undefined) return { status: 400, code: 'GW_BAD_REQUEST', message: err.message }
  const status = err.statusCode ?? (err as { status?: number }).status
  if (status !== undefined && status >= 400 && status < 500) {
    const own = typeof err.code === 'string' && err.code.startsWith('FST_ERR_')
    const code = own ? frameworkCodes[err.code] : undefined
    if (code !== undefined) return { status: statusOf[code] ?? 400, code, message: err.message }
    // Fastify's own errors (empty or invalid JSON and the like) carry fixed messages; anything
    // else might quote the body.
    return { status: 400, code: 'GW_BAD_REQUEST', message: own ? err.message : 'the request is malformed' }
  }
  return { status: 500, code: 'GW_INTERNAL', message: 'an unexpected error inside geogate' }
}

export interface ErrorPluginOptions {
  /** Told of every error answer (metrics), a request no route matched included. */
  onError?: (request: FastifyRequest, rendered: RenderedError) => void
}

/**
 * Who asked for what, for a line about a failed request: the client's address as the app
 * resolved it (the gateway, behind its trusted proxies), else the peer's; the path without its
 * query, which may carry a token or a signature.
 */
function whom (request: FastifyRequest): { client: string, method: string, path: string } {
  const resolved = (request as { clientAddress?: string }).clientAddress
  return { client: resolved ?? request.ip, method: request.method, path: request.url.split('?')[0] ?? '' }
}

function sendError (request: FastifyRequest, reply: FastifyReply, err: FastifyError, rendered: RenderedError): FastifyReply {
  const headers = request.routeOptions.config?.errorHeaders
  if (headers !== undefined) void reply.headers(headers)
  if (rendered.retryAfter !== undefined) void reply.header('retry-after', String(rendered.retryAfter))
  if (rendered.code === 'GW_INTERNAL') request.log.error({ err, ...whom(request) }, 'unexpected error')
  else if (rendered.status >= 500) request.log.warn({ code: rendered.code, cause: (err.cause as Error | undefined)?.message, ...whom(request) }, rendered.message)
  return reply.code(rendered.status).send(errorBody(rendered.code, rendered.message))
}

const errors: FastifyPluginAsync<ErrorPluginOptions> = async (app, options) => {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const rendered = renderError(err)
    options.onError?.(request, rendered)
    return sendError(request, reply, err, rendered)
  })
  // An unknown path and a known path with another method answer alike.
  app.setNotFoundHandler((request, reply) => {
    const message = `no route ${request.method} ${request.url.split('?')[0] ?? ''}`
    options.onError?.(request, { status: 404, code: 'GW_NOT_FOUND', message })
    return reply.code(404).send(errorBody('GW_NOT_FOUND', message))
  })
}

/** Registered first by each app, at its root, so every route of the app renders errors here. */
export const errorPlugin = fp(errors, { name: 'geogate-errors', fastify: '5.x' })
