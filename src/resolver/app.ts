// The geo-resolver service (`geogate resolver`) as an app factory: GET /resolve, /healthz and
// /metrics over a City database (and optionally an ASN one) that the caller opened and closes.

import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox'
import { quietRequestLogs } from '../logging.js'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { Type } from 'typebox'
import type { AsnInfo, LocationLookup } from '../geo/maxmind-lookup.js'
import { type ReloadingLookup, createAnswers } from './answers.js'
import { installErrorHandler } from './error-handler.js'
import { requireSignedCalls, type SignedCallsOptions } from '../http/require-signed-calls.js'
import { createResolverMetrics } from './metrics.js'
import { resolveRoutes } from './routes.js'

export interface ResolverAppOptions {
  city: LocationLookup
  /** Who may call (README, "Signed service calls"); false answers anyone, for tests of other concerns only. */
  signedCalls: SignedCallsOptions | false
  asn?: ReloadingLookup<AsnInfo | null>
  /** Most answers cached; default 100,000. */
  cacheMax?: number
  /** How long (ms) an answer stays cached when no reload clears it first; default 1 h. */
  cacheTtlMs?: number
  /** Fastify's logger option: true, false (the default) or pino options. */
  logger?: FastifyServerOptions['logger']
  /** A logger of the caller's own (pino); wins over logger. */
  loggerInstance?: FastifyBaseLogger
  now?: () => number
}

export async function buildResolverApp (options: ResolverAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.loggerInstance !== undefined ? { loggerInstance: options.loggerInstance } : { logger: options.logger ?? false }),
    logController: quietRequestLogs()
  })
  app.setValidatorCompiler(TypeBoxValidatorCompiler)

  const metrics = createResolverMetrics()
  const answers = createAnswers({
    city: options.city,
    asn: options.asn,
    cacheMax: options.cacheMax ?? 100_000,
    cacheTtlMs: options.cacheTtlMs ?? 3_600_000,
    metrics,
    now: options.now
  })
  metrics.watchCacheSize(() => answers.size)
  app.addHook('onClose', async () => { answers.close() })

  installErrorHandler(app, (request) => {
    if (request.routeOptions.url === '/resolve') metrics.lookup('bad_request')
  })
  if (options.signedCalls !== false) requireSignedCalls(app, { now: options.now, ...options.signedCalls })
  await app.register(resolveRoutes, { answers, metrics })

  app.get('/metrics', { schema: { response: { 200: Type.String() } } }, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType)
    return await metrics.registry.metrics()
  })

  return app
}
