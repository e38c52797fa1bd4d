// The gateway as a Fastify app built from its parts. Processes (src/gateway.ts) and tests
// build the same app; this file only wires routes to the dependencies it is given.

import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import formbody from '@fastify/formbody'
import { Type } from 'typebox'
import { registerAdminRoutes, type AdminDeps } from './admin/admin-routes.js'
import type { ClientIpResolver } from './geo/client-ip.js'
import { installErrorHandler } from './handlers/error-handler.js'
import { registerHealthRoutes } from './handlers/health-routes.js'
import { registerStreamRoutes } from './handlers/stream-routes.js'
import type { StreamRequestDeps } from './handlers/stream-request.js'
import type { GatewayMetrics } from './metrics/gateway-metrics.js'
import { registerNodeHookRoutes, type NodeHooksDeps } from './node-hooks/node-hooks.js'
import type { RoutingSnapshotSource } from './store/routing-snapshot.js'
import { quietRequestLogs } from './logging.js'

export interface GatewayAppDeps {
  stream: StreamRequestDeps
  clientIp: ClientIpResolver
  routing: Pick<RoutingSnapshotSource, 'current' | 'healthy'>
  metrics: GatewayMetrics
  corsOrigin: string
  /** The admin API; absent, the app serves streams only. */
  admin?: AdminDeps
  /** /verify and the play hooks nodes call; absent, the app has none. */
  nodeHooks?: NodeHooksDeps
}

export interface GatewayAppOptions {
  logger?: FastifyServerOptions['logger']
}

export async function buildGatewayApp (deps: GatewayAppDeps, options: GatewayAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    logController: quietRequestLogs(),
    // The socket address is the client; X-Forwarded-For is read only from trusted proxies.
    trustProxy: false,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } }
  })
  await app.register(formbody)
  installErrorHandler(app)
  // Loaded here, not at the top: the resolver and auth-server processes share the CLI with the
  // gateway and should not pay for Swagger and static files at start.
  const { registerOpenApi } = await import('./docs/openapi.js')
  await registerOpenApi(app)

  registerHealthRoutes(app, deps.routing)
  registerStreamRoutes(app, { deps: deps.stream, clientIp: deps.clientIp, corsOrigin: deps.corsOrigin, onAnswer: deps.metrics.streamAnswer })
  if (deps.admin !== undefined) registerAdminRoutes(app, deps.admin)
  if (deps.admin !== undefined) await (await import('./console/console-routes.js')).registerConsole(app)
  if (deps.nodeHooks !== undefined) registerNodeHookRoutes(app, deps.nodeHooks)
  app.get('/metrics', { schema: { response: { 200: Type.String({ description: 'Prometheus text exposition' }) } } }, async (_request, reply) => {
    const snapshot = deps.routing.current()
    deps.metrics.setStoreUp(deps.routing.healthy())
    if (snapshot !== undefined) deps.metrics.setSnapshotAge((deps.stream.now() - snapshot.loadedAt) / 1000)
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics())
  })
  return app
}
