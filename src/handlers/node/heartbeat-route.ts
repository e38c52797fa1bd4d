// POST /api/v1/nodes/:id/heartbeat: a node reports it is alive and how loaded it is,
// authenticated by its own key (stored hashed). A node that stops reporting for NODE_TTL gets
// no new viewers on any replica, since every replica reads last_seen from MongoDB. With node
// hooks on, a heartbeat also renews the leases of the node's plays (renewLeasesOnHeartbeat).

import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { Type, type Static } from 'typebox'
import { hashToken } from '../../auth/token-hash.js'
import { gatewayError } from '../../errors.js'
import { ErrorResponse } from '../stream/stream-schema.js'
import type { Collections } from '../../store/mongo.js'
import { bearerOf } from '../admin/admin-auth.js'
import { IdParams } from '../admin/schemas.js'

export const HeartbeatBody = Type.Object({
  sessions: Type.Integer({ minimum: 0, maximum: 10_000_000 }),
  mbps: Type.Number({ minimum: 0, maximum: 10_000_000 }),
  cpu: Type.Number({ minimum: 0, maximum: 100 }),
  status: Type.Optional(Type.Union([Type.Literal('up'), Type.Literal('draining')]))
}, { additionalProperties: false })
export type HeartbeatBody = Static<typeof HeartbeatBody>

export interface HeartbeatDeps {
  nodes: Collections['nodes']
  now: () => number
  nodeTtlS: number
}

export function keyMatches (key: string, keyHash: string | undefined): boolean {
  if (keyHash === undefined) return false
  const given = Buffer.from(hashToken(key), 'hex')
  const stored = Buffer.from(keyHash, 'hex')
  return given.length === stored.length && timingSafeEqual(given, stored)
}

export const HEARTBEAT_PATH = '/api/v1/nodes/:id/heartbeat'

/**
 * After each heartbeat this route accepts, renew(node) extends the leases of the plays that node
 * admitted (src/billing/sessions.ts): a node that stops reporting lets them lapse. A hook, so
 * that node hooks can be added to an app without changing how the admin API is built; a
 * failure answers the heartbeat 503, and the node's next heartbeat tries again.
 */
export function renewLeasesOnHeartbeat (app: FastifyInstance, renew: (node: string) => Promise<void>): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode !== 200 || request.method !== 'POST' || request.routeOptions.url !== HEARTBEAT_PATH) return payload
    try {
      await renew((request.params as { id: string }).id)
    } catch (err) {
      throw gatewayError('GW_DEPENDENCY_DOWN', 'the node\'s session leases could not be renewed', { cause: err })
    }
    return payload
  })
}

export function registerHeartbeatRoutes (app: FastifyInstance, deps: HeartbeatDeps): void {
  app.post<{ Params: { id: string }, Body: HeartbeatBody }>(HEARTBEAT_PATH, {
    schema: {
      params: IdParams,
      body: HeartbeatBody,
      response: {
        200: Type.Object({ node: Type.String(), status: Type.String(), node_ttl_s: Type.Integer() }),
        400: ErrorResponse,
        401: ErrorResponse
      }
    }
  }, async (request) => {
    const key = bearerOf(request)
    const node = await deps.nodes.findOne({ _id: request.params.id }, { projection: { key_hash: 1, draining: 1 } })
    // An unknown node and a wrong key answer alike, so ids cannot be probed.
    if (node === null || !keyMatches(key, node.key_hash)) throw gatewayError('GW_TOKEN_INVALID', 'unknown node or wrong node key')
    const { sessions, mbps, cpu, status } = request.body
    const draining = status === undefined ? node.draining : status === 'draining'
    await deps.nodes.updateOne({ _id: request.params.id }, {
      $set: { last_seen: new Date(deps.now()), load: { sessions, mbps, cpu }, draining }
    })
    return { node: request.params.id, status: draining ? 'draining' : 'up', node_ttl_s: deps.nodeTtlS }
  })
}
