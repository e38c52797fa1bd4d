// POST /api/v1/nodes/:id/heartbeat: a node reports it is alive and how loaded it is,
// authenticated by its own key (stored hashed). A node that stops reporting for NODE_TTL gets
// no new viewers on any replica, since every replica reads last_seen from MongoDB. With node
// hooks on, a heartbeat also renews the leases of the node's plays (afterBeat).

import type { FastifyInstance } from 'fastify'
import { Type, type Static } from 'typebox'
import { gatewayError } from '../../errors.js'
import { ErrorResponse } from '../../http/schemas.js'
import type { Collections } from '../../store/mongo.js'
import { IdParams } from '../../http/schemas.js'
import { keyMatches, nodeKeyOf } from './node-identity.js'

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
  /**
   * What follows a beat the route accepted (renewing the leases of the node's plays). A failure
   * answers the heartbeat 503, and the node's next heartbeat tries again.
   */
  afterBeat?: (node: string) => Promise<void>
}

export function registerHeartbeatRoute (app: FastifyInstance, deps: HeartbeatDeps): void {
  app.post<{ Params: { id: string }, Body: HeartbeatBody }>('/api/v1/nodes/:id/heartbeat', {
    schema: {
      params: IdParams,
      body: HeartbeatBody,
      response: {
        200: Type.Object({ node: Type.String(), status: Type.String(), node_ttl_s: Type.Integer() }),
        400: ErrorResponse,
        401: ErrorResponse,
        503: ErrorResponse
      }
    }
  }, async (request) => {
    const key = nodeKeyOf(request, undefined)
    if (key === undefined) throw gatewayError('GW_TOKEN_MISSING', 'send the node key as Authorization: Bearer')
    const node = await deps.nodes.findOne({ _id: request.params.id }, { projection: { key_hash: 1, draining: 1 } })
    // An unknown node and a wrong key answer alike, so ids cannot be probed.
    if (node === null || !keyMatches(key, node.key_hash)) throw gatewayError('GW_TOKEN_INVALID', 'unknown node or wrong node key')
    const { sessions, mbps, cpu, status } = request.body
    const draining = status === undefined ? node.draining : status === 'draining'
    await deps.nodes.updateOne({ _id: request.params.id }, {
      $set: { last_seen: new Date(deps.now()), load: { sessions, mbps, cpu }, draining }
    })
    if (deps.afterBeat !== undefined) {
      try {
        await deps.afterBeat(request.params.id)
      } catch (err) {
        throw gatewayError('GW_DEPENDENCY_DOWN', 'the node\'s session leases could not be renewed', { cause: err })
      }
    }
    return { node: request.params.id, status: draining ? 'draining' : 'up', node_ttl_s: deps.nodeTtlS }
  })
}
