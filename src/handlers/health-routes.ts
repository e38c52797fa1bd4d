// /healthz: the process is up. /readyz: the store answered and the node snapshot is loaded;
// once loaded, a store outage is reported as degraded while the last snapshot keeps serving.

import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import type { RoutingSnapshotSource } from '../routing/routing-snapshot.js'

const Healthy = Type.Object({ status: Type.Literal('ok') })
const Readiness = Type.Object({
  status: Type.String({ description: 'ready, degraded (serving the last snapshot) or starting' }),
  store: Type.String({ description: 'connected or unreachable' }),
  snapshot: Type.Union([Type.String(), Type.Object({ loaded_at: Type.String({ format: 'date-time' }) })])
})

export interface HealthRoutesOptions {
  routing: Pick<RoutingSnapshotSource, 'current' | 'healthy'>
}

export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, { routing }) => {
  app.get('/healthz', { schema: { response: { 200: Healthy } } }, async () => ({ status: 'ok' as const }))
  app.get('/readyz', { schema: { response: { 200: Readiness, 503: Readiness } } }, async (_request, reply) => {
    const snapshot = routing.current()
    if (snapshot === undefined) {
      return reply.code(503).send({ status: 'starting', store: routing.healthy() ? 'connected' : 'unreachable', snapshot: 'not loaded' })
    }
    const store = routing.healthy() ? 'connected' : 'unreachable'
    return reply.code(200).send({
      status: store === 'connected' ? 'ready' : 'degraded',
      store,
      snapshot: { loaded_at: new Date(snapshot.loadedAt).toISOString() }
    })
  })
}
