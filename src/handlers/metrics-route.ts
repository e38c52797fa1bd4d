// GET /metrics: the gateway's Prometheus text, with the store's state and the snapshot's age
// read at scrape time.

import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import type { GatewayMetrics } from '../metrics/gateway-metrics.js'
import type { RoutingSnapshotSource } from '../routing/routing-snapshot.js'
import type { Readiness } from './health-routes.js'

export interface MetricsRouteOptions {
  metrics: GatewayMetrics
  routing: Pick<RoutingSnapshotSource, 'current' | 'healthy' | 'readAt'>
  readiness?: Pick<Readiness, 'storeState'>
  now: () => number
}

export const metricsRoute: FastifyPluginAsync<MetricsRouteOptions> = async (app, { metrics, routing, readiness, now }) => {
  app.get('/metrics', { schema: { response: { 200: Type.String({ description: 'Prometheus text exposition' }) } } }, async (_request, reply) => {
    const snapshot = routing.current()
    metrics.setStoreUp(routing.healthy() && readiness?.storeState() !== 'down')
    // The age of what the gateway routes with: since MongoDB was last read (heartbeats
    // included), which grows through an outage.
    if (snapshot !== undefined) metrics.setSnapshotAge((now() - (routing.readAt() ?? snapshot.loadedAt)) / 1000)
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics())
  })
}
