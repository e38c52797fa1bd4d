// /healthz: the process is up. /readyz: whether to send this gateway traffic. 503 only while
// it cannot route at all (no node snapshot loaded yet) or is shutting down; while MongoDB is
// away it still routes from its last snapshot and cached records, so it stays in rotation
// (200) and says "degraded" and what is stale. A stored document routing left out is no
// outage: the store is "connected" and the gateway "ready", with the count of refused
// documents; a configuration refused whole (nothing to route with) is "degraded", with why.

import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import type { RoutingSnapshotSource } from '../routing/routing-snapshot.js'

const Healthy = Type.Object({ status: Type.Literal('ok') })
const ReadinessAnswer = Type.Object({
  status: Type.String({ description: 'ready, degraded (serving the last snapshot), starting or shutting down' }),
  store: Type.String({ description: 'connected or unreachable' }),
  refused_documents: Type.Optional(Type.Integer({ description: 'stored nodes, geo groups and partners left out of routing (each logged, and in geogate_snapshot_refused_documents)' })),
  configuration: Type.Optional(Type.String({ description: 'why the newest configuration read is not routed with; the last snapshot serves' })),
  snapshot: Type.Optional(Type.Union([Type.String(), Type.Object({
    loaded_at: Type.String({ format: 'date-time' }),
    read_at: Type.String({ format: 'date-time', description: 'when MongoDB was last read, heartbeats included' }),
    age_s: Type.Integer({ description: 'seconds since read_at' })
  })])),
  stale: Type.Optional(Type.Object({
    snapshot: Type.String(),
    cached: Type.Record(Type.String(), Type.Integer(), { description: 'cached records answering past their TTL, by kind' })
  }))
})

export interface Readiness {
  /** True from the start of a shutdown: load balancers should stop sending traffic. */
  draining: () => boolean
  /** The gateway's own view of MongoDB (its queries' breaker). */
  storeState: () => 'up' | 'down'
  /** How many cached records of each kind answer past their TTL because MongoDB is away. */
  staleCounts: () => Record<string, number>
}

export interface HealthRoutesOptions {
  routing: Pick<RoutingSnapshotSource, 'current' | 'healthy' | 'readAt' | 'refused' | 'configProblem'>
  readiness?: Readiness
  now: () => number
}

export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, { routing, readiness, now }) => {
  app.get('/healthz', { schema: { response: { 200: Healthy } } }, async () => ({ status: 'ok' as const }))
  app.get('/readyz', { schema: { response: { 200: ReadinessAnswer, 503: ReadinessAnswer } } }, async (_request, reply) => {
    const snapshot = routing.current()
    const store = routing.healthy() && readiness?.storeState() !== 'down' ? 'connected' : 'unreachable'
    if (readiness?.draining() === true) {
      return reply.code(503).send({ status: 'shutting down', store })
    }
    const refused = routing.refused().length
    const configuration = routing.configProblem()
    const told = { ...(refused > 0 && { refused_documents: refused }), ...(configuration !== undefined && { configuration }) }
    if (snapshot === undefined) {
      return reply.code(503).send({ status: 'starting', store, ...told, snapshot: 'not loaded' })
    }
    const readAt = routing.readAt() ?? snapshot.loadedAt
    const body = {
      status: store === 'connected' && configuration === undefined ? 'ready' : 'degraded',
      store,
      ...told,
      snapshot: {
        loaded_at: new Date(snapshot.loadedAt).toISOString(),
        read_at: new Date(readAt).toISOString(),
        age_s: Math.max(0, Math.round((now() - readAt) / 1000))
      }
    }
    if (store === 'connected') return reply.code(200).send(body)
    return reply.code(200).send({
      ...body,
      stale: {
        snapshot: `nodes, geo groups and partners as read at ${new Date(readAt).toISOString()}; node liveness frozen there`,
        cached: readiness?.staleCounts() ?? {}
      }
    })
  })
}
