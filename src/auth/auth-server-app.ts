// `geogate auth-server` as an app: `POST /authorize` answers who owns a token and whether it may
// do this to that object (DESIGN sections 1 and 2.4). Listening and shutdown belong to the CLI.

import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { Counter, Registry } from 'prom-client'
import { quietRequestLogs } from '../logging.js'
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Collection } from 'mongodb'
import type { TokenDoc } from '../store/documents.js'
import { AuthorizeAnswer, AuthorizeBody, ErrorAnswer, HealthAnswer } from './authorize-schema.js'
import { authorizeToken } from './authorize-token.js'
import { replyWithGatewayErrors } from './error-replies.js'
import { requireSignedCalls, type SignedCallsOptions } from '../http/require-signed-calls.js'

export interface AuthServerOptions {
  tokens: Collection<TokenDoc>
  /** Who may call (README, "Signed service calls"); false answers anyone, for tests of other concerns only. */
  signedCalls: SignedCallsOptions | false
  now?: () => number
  /** false (the default) for none, true for pino's defaults, or pino options. */
  logger?: boolean | object
}

/** Log paths that can hold a token; pino replaces them before a line is written. */
export const redactedLogPaths = [
  'req.headers.authorization',
  'headers.authorization',
  'req.body.token',
  'body.token'
]

export async function buildAuthServerApp (options: AuthServerOptions): Promise<FastifyInstance> {
  const now = options.now ?? Date.now
  const base = Fastify({
    logger: loggerOptions(options.logger ?? false),
    logController: quietRequestLogs(),
    // A token is at most 4096 characters; nothing legitimate comes near this.
    bodyLimit: 16 * 1024
  })
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  // TypeBox's checker rejects extra properties and never coerces types, unlike Fastify's
  // default Ajv setup, which strips the one and coerces the other.
  app.setValidatorCompiler(TypeBoxValidatorCompiler)
  replyWithGatewayErrors(base)
  if (options.signedCalls !== false) requireSignedCalls(base, { now, ...options.signedCalls })

  const registry = new Registry()
  const answers = new Counter({
    name: 'geogate_auth_requests_total',
    help: 'POST /authorize answers by HTTP status',
    labelNames: ['status'] as const,
    registers: [registry]
  })
  app.addHook('onResponse', async (request, reply) => {
    if (request.routeOptions.url === '/authorize') answers.inc({ status: String(reply.statusCode) })
  })
  app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()))

  app.get('/healthz', {
    schema: { response: { 200: HealthAnswer } }
  }, async () => ({ status: 'ok' as const }))

  app.post('/authorize', {
    schema: {
      body: AuthorizeBody,
      response: { 200: AuthorizeAnswer, 400: ErrorAnswer, 401: ErrorAnswer, 403: ErrorAnswer, 500: ErrorAnswer, 503: ErrorAnswer }
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

  return base
}

function loggerOptions (logger: boolean | object): FastifyServerOptions['logger'] {
  if (logger === false) return false
  const given = logger === true ? {} : logger as { redact?: string[] | { paths: string[], censor?: unknown } }
  const extra = Array.isArray(given.redact) ? given.redact : (given.redact?.paths ?? [])
  return {
    ...given,
    redact: { paths: [...new Set([...redactedLogPaths, ...extra])], censor: '[redacted]' }
  } as FastifyServerOptions['logger']
}
