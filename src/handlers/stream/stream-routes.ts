// GET /flv, /hls, /ws-fmp4 and /stream?format=: the thin HTTP adapter around handleStreamRequest.

import { Type } from 'typebox'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { bearerToken } from '../../http/bearer.js'
import { type StreamFormat } from '../../store/documents.js'
import { createRedirectWriter } from './redirect-writer.js'
import { handleStreamRequest, type StreamAnswer, type StreamRequestDeps, type StreamRequestInput } from './stream-request.js'
import { registerSteeringRoutes, type SteeringFeedback } from './steering-routes.js'
import { ErrorResponse } from '../../http/schemas.js'
import { AnyFormatQuery, StreamJsonResponse, StreamQuery, type AnyFormatQuery as AnyFormatQueryType, type StreamQuery as StreamQueryType } from './stream-schema.js'

export interface StreamRouteOptions {
  deps: StreamRequestDeps
  corsOrigin: string
  /**
   * Told of every successful answer: the route's path, the status, the answer, the request as
   * the gateway read it, and performance.now() at the handler's start (errors: STREAM_PATHS and
   * request.streamStartedAt).
   */
  onAnswer?: (path: string, status: number, answer: StreamAnswer, input: StreamRequestInput, startedAt: number) => void
  /** Told of every steering manifest answered: what the player reported, what it was told. */
  onSteering?: (feedback: SteeringFeedback) => void
}

declare module 'fastify' {
  interface FastifyRequest {
    /** performance.now() when a stream route's handler started; 0 before it (a schema refusal). */
    streamStartedAt: number
  }
}

/** The stream routes' paths, as metrics name them. */
export const STREAM_PATHS: ReadonlySet<string> = new Set(['/flv', '/hls', '/ws-fmp4', '/stream'])

const errorResponses = { 400: ErrorResponse, 401: ErrorResponse, 402: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse }

function wantsJson (request: FastifyRequest, redirect: string | undefined): boolean {
  if (redirect === 'false') return true
  const accept = request.headers.accept
  return accept !== undefined && accept.includes('application/json')
}

export const streamRoutes: FastifyPluginAsync<StreamRouteOptions> = async (app, options) => {
  const { deps, corsOrigin } = options
  const onAnswer = options.onAnswer ?? (() => {})
  const writeRedirect = createRedirectWriter({ allowOrigin: corsOrigin })
  app.decorateRequest('streamStartedAt', 0)

  // A warm request is answered synchronously, in the same turn as its parse, like a bare route;
  // only a request with something to load waits on a promise.
  function answer (request: FastifyRequest, reply: FastifyReply, path: string, format: StreamFormat, query: StreamQueryType): Promise<void> | undefined {
    const startedAt = request.streamStartedAt = performance.now()
    const json = wantsJson(request, query.redirect)
    const input: StreamRequestInput = {
      format,
      server: query.server,
      camera: query.camera,
      token: query.access_token ?? bearerToken(request.headers.authorization),
      pattern: query.pattern ?? 'streaming',
      clientIp: request.clientAddress,
      fromIp: query.fromip,
      withAlternates: json,
      steering: query.steering,
      failed: query.failed,
      failedSig: query.failed_sig
    }
    const result = handleStreamRequest(deps, input)
    if (result instanceof Promise) return result.then((answer) => { send(reply, path, json, answer, input, startedAt) })
    send(reply, path, json, result, input, startedAt)
    return undefined
  }

  function send (reply: FastifyReply, path: string, json: boolean, result: StreamAnswer, input: StreamRequestInput, startedAt: number): void {
    if (json) {
      onAnswer(path, 200, result, input, startedAt)
      void reply.code(200).headers(answerHeaders).send({
        url: result.url,
        node: result.node,
        expires_at: new Date(result.expiresAt).toISOString(),
        alternates: result.alternates
      })
      return
    }
    onAnswer(path, 302, result, input, startedAt)
    // The redirect is the hot path and has no body: it goes straight to the socket, past
    // Fastify's send pipeline (serializers and onSend hooks have nothing to do here), at the
    // end of the turn together with the other redirects the turn answered.
    reply.hijack()
    writeRedirect(reply.raw, result.url)
  }

  // Errors carry the same headers as answers (the error plugin adds them): a browser reads an
  // error across origins too.
  const answerHeaders = { 'cache-control': 'no-store', 'access-control-allow-origin': corsOrigin }
  const config = { errorHeaders: answerHeaders }

  const Redirect = Type.Null({ description: 'the signed redirect to a node: a Location header and no body (redirect=false answers 200 with JSON instead)' })
  const schema = { querystring: StreamQuery, response: { 200: StreamJsonResponse, 302: Redirect, ...errorResponses } }
  for (const format of ['flv', 'hls', 'ws-fmp4'] as const) {
    const path = `/${format}`
    app.get<{ Querystring: StreamQueryType }>(path, { schema, config }, (request, reply) => answer(request, reply, path, format, request.query))
  }
  app.get<{ Querystring: AnyFormatQueryType }>('/stream', { schema: { ...schema, querystring: AnyFormatQuery }, config },
    (request, reply) => answer(request, reply, '/stream', request.query.format, request.query))

  // Where an HLS answer leads: the session's multivariant playlist and steering manifest.
  if (deps.steering !== undefined) {
    registerSteeringRoutes(app, {
      steering: deps.steering,
      routing: deps.routing,
      grants: deps.grants,
      signatureParam: deps.signatureParam,
      nodeTtlMs: deps.nodeTtlMs,
      now: deps.now,
      corsOrigin,
      ...(options.onSteering !== undefined && { onFeedback: options.onSteering })
    })
  }
}
