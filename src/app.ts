// The gateway as an app plugin, assembled from its route plugins: stream requests, the routes
// nodes call (heartbeat, verify, play hooks), the admin API, health and metrics. `geogate
// gateway`, `geogate dev`, the bench and the tests all build this same plugin (src/gateway.ts
// makes its dependencies from the configuration); this file only wires routes to them.

import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { ClientIpResolver } from './geo/client-ip.js'
import { adminRoutes, type AdminDeps } from './handlers/admin/admin-routes.js'
import { healthRoutes, type Readiness } from './handlers/health-routes.js'
import { metricsRoute } from './handlers/metrics-route.js'
import { nodeRoutes, type NodeRoutesDeps } from './handlers/node/node-routes.js'
import type { StreamRequestDeps } from './handlers/stream/stream-request.js'
import { STREAM_PATHS, streamRoutes } from './handlers/stream/stream-routes.js'
import { errorPlugin } from './http/error-plugin.js'
import type { GatewayMetrics } from './metrics/gateway-metrics.js'
import type { RoutingSnapshotSource } from './routing/routing-snapshot.js'

export interface GatewayAppOptions {
  stream: StreamRequestDeps
  clientIp: ClientIpResolver
  routing: Pick<RoutingSnapshotSource, 'current' | 'healthy' | 'readAt'>
  readiness?: Readiness
  metrics: GatewayMetrics
  corsOrigin: string
  admin: AdminDeps
  node: NodeRoutesDeps
}

const gateway: FastifyPluginAsync<GatewayAppOptions> = async (app, options) => {
  const { metrics, routing, readiness } = options
  const now = options.stream.now
  await app.register(errorPlugin, {
    onError: (request, rendered) => {
      const path = request.routeOptions.url
      if (path !== undefined && STREAM_PATHS.has(path)) metrics.streamAnswer(path, rendered.status)
    }
  })
  // Loaded here, not at the top: the resolver and auth-server processes share the CLI with the
  // gateway and should not pay for Swagger and static files at start. Registered before the
  // routes, so that the OpenAPI document collects every one of them.
  const { registerOpenApi } = await import('./docs/openapi.js')
  await registerOpenApi(app)
  await app.register(healthRoutes, { routing, now, ...(readiness !== undefined && { readiness }) })
  await app.register(streamRoutes, { deps: options.stream, clientIp: options.clientIp, corsOrigin: options.corsOrigin, onAnswer: metrics.streamAnswer })
  await app.register(nodeRoutes, options.node)
  await app.register(adminRoutes, options.admin)
  await app.register(metricsRoute, { metrics, routing, now, ...(readiness !== undefined && { readiness }) })
  await app.register(async (console) => { await (await import('./console/console-routes.js')).registerConsole(console) })
}

export const gatewayApp = fp(gateway, { name: 'geogate-gateway', fastify: '5.x' })
