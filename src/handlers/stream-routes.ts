// GET /flv, /hls, /ws-fmp4 and /stream?format=: the thin HTTP adapter around handleStreamRequest.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ClientIpResolver } from '../geo/client-ip.js'
import { type StreamFormat } from '../store/documents.js'
import { handleStreamRequest, type StreamRequestDeps } from './stream-request.js'
import { AnyFormatQuery, ErrorResponse, StreamJsonResponse, StreamQuery, type AnyFormatQuery as AnyFormatQueryType, type StreamQuery as StreamQueryType } from './stream-schema.js'

export interface StreamRouteOptions {
  deps: StreamRequestDeps
  clientIp: ClientIpResolver
  corsOrigin: string
  /** Told of every successful answer: the route's path and the status. */
  onAnswer?: (path: string, status: number) => void
}

const errorResponses = { 400: ErrorResponse, 401: ErrorResponse, 402: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse }

function bearerToken (header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const match = /^Bearer\s+(\S{1,4096})\s*$/i.exec(header)
  return match?.[1]
}

function wantsJson (request: FastifyRequest, redirect: string | undefined): boolean {
  if (redirect === 'false') return true
  const accept = request.headers.accept
  return accept !== undefined && accept.includes('application/json')
}

export function registerStreamRoutes (app: FastifyInstance, options: StreamRouteOptions): void {
  const { deps, clientIp, corsOrigin } = options

  async function answer (request: FastifyRequest, reply: FastifyReply, format: StreamFormat, query: StreamQueryType): Promise<unknown> {
    const forwarded = request.headers['x-forwarded-for']
    const result = await handleStreamRequest(deps, {
      format,
      server: query.server,
      camera: query.camera,
      token: query.access_token ?? bearerToken(request.headers.authorization),
      pattern: query.pattern ?? 'streaming',
      clientIp: clientIp(request.socket.remoteAddress ?? '', Array.isArray(forwarded) ? forwarded.join(',') : forwarded),
      fromIp: query.fromip
    })
    if (wantsJson(request, query.redirect)) {
      options.onAnswer?.(request.routeOptions.url ?? '', 200)
      return reply.code(200).send({
        url: result.url,
        node: result.node,
        expires_at: new Date(result.expiresAt).toISOString(),
        alternates: result.alternates
      })
    }
    options.onAnswer?.(request.routeOptions.url ?? '', 302)
    return reply.code(302).header('location', result.url).send()
  }

  // Set before validation, so error answers carry them too: a browser reads errors across origins.
  const onRequest = (_request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    void reply.header('cache-control', 'no-store').header('access-control-allow-origin', corsOrigin)
    done()
  }
  const schema = { querystring: StreamQuery, response: { 200: StreamJsonResponse, ...errorResponses } }
  for (const format of ['flv', 'hls', 'ws-fmp4'] as const) {
    app.get<{ Querystring: StreamQueryType }>(`/${format}`, { schema, onRequest }, (request, reply) => answer(request, reply, format, request.query))
  }
  app.get<{ Querystring: AnyFormatQueryType }>('/stream', { schema: { ...schema, querystring: AnyFormatQuery }, onRequest },
    (request, reply) => answer(request, reply, request.query.format, request.query))
}
