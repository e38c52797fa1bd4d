// `geogate auth-server` as an app plugin: `POST /authorize` answers who owns a token and whether
// it may do this to that object (docs/design.md sections 1 and 2.4), and `POST /introspect` everything
// the token may do (RFC 7662), from hashed tokens in MongoDB; `POST /introspect/batch` the same
// for up to INTROSPECT_BATCH_MAX tokens with one store query, what a gateway sends when several
// new viewers come at once.

import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { Collection } from 'mongodb'
import { Counter, Registry } from 'prom-client'
import { authorizeToken } from './authorize-token.js'
import { introspectToken, introspectTokens } from './introspect-token.js'
import { errorPlugin } from '../http/error-plugin.js'
import { jsonBodiesPlugin } from '../http/json-body.js'
import { requireSignedCalls, type SignedCallsOptions } from '../http/require-signed-calls.js'
import { ErrorResponse, HealthAnswer } from '../http/schemas.js'
import type { TokenDoc } from '../store/documents.js'
import { AuthorizeAnswer, AuthorizeBody, IntrospectAnswer, IntrospectBatchAnswer, IntrospectBatchBody, IntrospectBody, type AuthorizeRequest, type IntrospectBatchRequest, type IntrospectRequest } from './schemas.js'

export interface AuthServerAppOptions {
  tokens: Collection<TokenDoc>
  /** Who may call (docs/services.md, "Signed service calls"); false answers anyone, for tests of other concerns only. */
  signedCalls: SignedCallsOptions | false
  now?: () => number
}

/** A token is at most 4096 characters; nothing legitimate comes near this. */
export const AUTH_SERVER_BODY_LIMIT = 16 * 1024
/**
 * POST /introspect/batch's: 64 tokens of 4096 characters, each written as JSON escapes at
 * worst, stay under it. A gateway sends far less (see auth-client.ts).
 */
export const INTROSPECT_BATCH_BODY_LIMIT = 2 * 1024 * 1024

const authServer: FastifyPluginAsync<AuthServerAppOptions> = async (app, options) => {
  const now = options.now ?? Date.now
  await app.register(errorPlugin)
  await app.register(jsonBodiesPlugin)
  if (options.signedCalls !== false) requireSignedCalls(app, { now, ...options.signedCalls })

  const registry = new Registry()
  const answers = new Counter({
    name: 'geogate_auth_requests_total',
    help: 'POST /authorize, POST /introspect and POST /introspect/batch answers by route and HTTP status',
    labelNames: ['route', 'status'] as const,
    registers: [registry]
  })
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url
    if (route === '/authorize' || route === '/introspect' || route === '/introspect/batch') answers.inc({ route, status: String(reply.statusCode) })
  })
  app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()))

  app.get('/healthz', { schema: { response: { 200: HealthAnswer } } }, async () => ({ status: 'ok' as const }))

  app.post<{ Body: AuthorizeRequest }>('/authorize', {
    schema: {
      body: AuthorizeBody,
      response: { 200: AuthorizeAnswer, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 500: ErrorResponse, 503: ErrorResponse }
    }
  }, async (request) => {
    const { token, rights, object_type: objectType, object_id: objectId } = request.body
    const owner = await authorizeToken(options.tokens, token, { rights, object_type: objectType, object_id: objectId }, now())
    return {
      owner_type: owner.owner_type,
      owner_id: owner.owner_id,
      expires_at: owner.expires_at === null ? null : owner.expires_at.toISOString()
    }
  })

  // An unknown token is a 200 with active false, as RFC 7662 has it; only a store that cannot
  // answer is an error (503).
  app.post<{ Body: IntrospectRequest }>('/introspect', {
    schema: {
      body: IntrospectBody,
      response: { 200: IntrospectAnswer, 400: ErrorResponse, 500: ErrorResponse, 503: ErrorResponse }
    }
  }, async (request) => await introspectToken(options.tokens, request.body.token, now()))

  app.post<{ Body: IntrospectBatchRequest }>('/introspect/batch', {
    bodyLimit: INTROSPECT_BATCH_BODY_LIMIT,
    schema: {
      body: IntrospectBatchBody,
      response: { 200: IntrospectBatchAnswer, 400: ErrorResponse, 500: ErrorResponse, 503: ErrorResponse }
    }
  }, async (request) => ({ answers: await introspectTokens(options.tokens, request.body.tokens, now()) }))
}

export const authServerApp = fp(authServer, { name: 'geogate-auth-server', fastify: '5.x' })
