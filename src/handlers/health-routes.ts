// /healthz: the process is up. /readyz: the store answered and the node snapshot is loaded;
// once loaded, a store outage is reported as degraded while the last snapshot keeps serving.

import type { FastifyPluginAsync } from 'fastify'
import type { RoutingSnapshotSource } from '../routing/routing-snapshot.js'

export interface HealthRoutesOptions {
  routing: Pick<RoutingSnapshotSource, 'current' | 'healthy'>
}

export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, { routing }) => {
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_request, reply) => {
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
