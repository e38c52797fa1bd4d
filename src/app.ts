// The gateway as an app plugin, assembled from its route plugins: stream requests, the routes
// nodes call (heartbeat, verify, play hooks), the admin API, health and metrics. `geogate
// gateway`, `geogate dev`, the bench and the tests all build this same plugin (src/gateway.ts
// makes its dependencies from the configuration); this file only wires routes to them.

import type { FastifyPluginAsync, FastifyRequest, onResponseHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import type { ClientIpResolver } from './geo/client-ip.js'
import { adminRoutes, type AdminDeps } from './handlers/admin/admin-routes.js'
import { healthRoutes, type Readiness } from './handlers/health-routes.js'
import { metricsRoute } from './handlers/metrics-route.js'
import { nodeRoutes, type NodeRoutesDeps } from './handlers/node/node-routes.js'
import { createStreamObserver } from './handlers/stream/stream-observer.js'
import type { StreamRequestDeps } from './handlers/stream/stream-request.js'
import { STREAM_PATHS, streamRoutes } from './handlers/stream/stream-routes.js'
import { clientAddressPlugin } from './http/client-address.js'
import { errorPlugin } from './http/error-plugin.js'
import { jsonBodiesPlugin } from './http/json-body.js'
import { DECISION_LOG_OFF, type DecisionLog } from './metrics/decision-log.js'
import type { GatewayMetrics } from './metrics/gateway-metrics.js'
import type { RoutingSnapshotSource } from './routing/routing-snapshot.js'

export interface GatewayAppOptions {
  stream: StreamRequestDeps
  clientIp: ClientIpResolver
  routing: Pick<RoutingSnapshotSource, 'current' | 'healthy' | 'readAt' | 'refused' | 'configProblem'>
  readiness?: Readiness
  metrics: GatewayMetrics
  /** A line per stream answer, when sampled; default off. */
  decisionLog?: DecisionLog
  corsOrigin: string
  admin: AdminDeps
  node: NodeRoutesDeps
}

const gateway: FastifyPluginAsync<GatewayAppOptions> = async (app, options) => {
  const { metrics, routing, readiness } = options
  const now = options.stream.now
  await app.register(clientAddressPlugin, { resolve: options.clientIp })
  const observer = createStreamObserver({ metrics, decisionLog: options.decisionLog ?? DECISION_LOG_OFF })
  // Stream routes report their answers themselves (no hook on the hot path); every other route
  // is counted when its response is sent, with the code its error had.
  const errorCodes = new WeakMap<FastifyRequest, string>()
  const countResponse: onResponseHookHandler = (request, reply, done) => {
    metrics.requestAnswered(request.routeOptions.url, reply.statusCode, errorCodes.get(request), reply.elapsedTime / 1000)
    done()
  }
  app.addHook('onRoute', (route) => {
    if (STREAM_PATHS.has(route.url)) return
    metrics.knowRoute(route.url)
    route.onResponse = [...[route.onResponse ?? []].flat(), countResponse]
  })
  await app.register(errorPlugin, {
    onError: (request, rendered) => {
      const path = request.routeOptions.url
      if (path === undefined) metrics.requestAnswered(undefined, rendered.status, rendered.code, 0)
      else if (STREAM_PATHS.has(path)) observer.failed(request, path, rendered)
      else errorCodes.set(request, rendered.code)
    }
  })
  await app.register(jsonBodiesPlugin)
  // Loaded here, not at the top: the resolver and auth-server processes share the CLI with the
  // gateway and should not pay for Swagger and static files at start. Registered before the
  // routes, so that the OpenAPI document collects every one of them.
  const { registerOpenApi } = await import('./docs/openapi.js')
  await registerOpenApi(app)
  await app.register(healthRoutes, { routing, now, ...(readiness !== undefined && { readiness }) })
  await app.register(streamRoutes, { deps: options.stream, corsOrigin: options.corsOrigin, onAnswer: observer.answered, onSteering: observer.steered })
  await app.register(nodeRoutes, options.node)
  await app.register(adminRoutes, options.admin)
  await app.register(metricsRoute, { metrics, routing, now, ...(readiness !== undefined && { readiness }) })
  await app.register(async (console) => { await (await import('./console/console-routes.js')).registerConsole(console) })
}

export const gatewayApp = fp(gateway, { name: 'geogate-gateway', fastify: '5.x' })
