// POST /api/v1/nodes/:id/heartbeat: a node reports it is alive, how loaded it is and its own
// status ('up' or 'draining'), authenticated by its own key (stored hashed). A node that stops
// reporting gets no new viewers on any replica, since every replica reads last_seen from
// MongoDB: after two missed beats at the pace each replica learns from them, or NODE_TTL_S. With node hooks on, a heartbeat also renews the leases of the node's
// plays (afterBeat).
//
// What a heartbeat writes is liveness only (last_seen, load, reported_status): the admin's
// `draining` and `enabled` are never touched, and nothing is audited. `status` defaults to
// 'up': each heartbeat states the node's status whole, so no beat depends on an earlier one.
//
// The node is recognised from this replica's routing view, which holds every node's key hash,
// so a heartbeat costs one store round trip, the write (which also returns the admin's drain
// as stored); the write is filtered on that key hash, so a key rotated or a node deleted since
// the view was built is refused as soon as the store says so. A node the view does not know yet (just created) is looked up in the store. When
// the store is unreachable the beat is applied to this replica's view alone and answered 200
// with "stored": false: the node stays eligible here, and is not told it is refused for the
// store's outage. Its plays' leases are then not renewed (they live in the store too); its next
// stored heartbeat renews them. Likewise when the store takes the beat but fails the renewal
// that follows: the beat is answered 200 with "leases_renewed": false, since the node is alive
// and its next beat tries the renewal again (a lease outlasts several beats).

import type { FastifyInstance } from 'fastify'
import { Type, type Static } from 'typebox'
import { gatewayError, isGatewayError } from '../../errors.js'
import { ErrorResponse, IdParams } from '../../http/schemas.js'
import { applyBeatInPlace, type NodeLiveness, type RoutingSnapshotSource } from '../../routing/routing-snapshot.js'
import { isStoreUnreachable } from '../../store/guarded-collections.js'
import { nodeReportedStatuses, type NodeDoc } from '../../store/documents.js'
import type { Collections } from '../../store/mongo.js'
import { keyMatches, nodeKeyOf } from './node-identity.js'

const reportedStatus = (description: string) => Type.Union(nodeReportedStatuses.map((s) => Type.Literal(s)), { description })

export const HeartbeatBody = Type.Object({
  sessions: Type.Integer({ minimum: 0, maximum: 10_000_000 }),
  mbps: Type.Number({ minimum: 0, maximum: 10_000_000 }),
  cpu: Type.Number({ minimum: 0, maximum: 100 }),
  status: Type.Optional(reportedStatus('the node\'s own status, default up; draining: no new viewers while its viewers finish'))
}, { additionalProperties: false })
export type HeartbeatBody = Static<typeof HeartbeatBody>

const HeartbeatAnswer = Type.Object({
  node: Type.String(),
  status: reportedStatus('the status this heartbeat reported'),
  draining: Type.Boolean({ description: 'whether an admin has drained the node (as this replica knows it): no new viewers either way' }),
  stored: Type.Boolean({ description: 'false: the store was unreachable; the beat counts on this replica only, and the leases of the node\'s plays were not renewed' }),
  leases_renewed: Type.Boolean({ description: 'whether the leases of the node\'s plays were renewed by this beat (false: the store failed; the next beat tries again)' }),
  node_ttl_s: Type.Integer()
})

export interface HeartbeatDeps {
  nodes: Collections['nodes']
  /** This replica's routing view: who a node is, and where a beat the store cannot take goes. */
  routing: Pick<RoutingSnapshotSource, 'current'>
  now: () => number
  nodeTtlS: number
  /**
   * What follows a beat the store took (renewing the leases of the node's plays). A failure is
   * logged and answered as leases_renewed: false; the node's next heartbeat tries again.
   */
  afterBeat?: (node: string) => Promise<void>
}

type KnownNode = Pick<NodeDoc, 'key_hash' | 'draining'>

function unreachable (err: unknown): boolean {
  return (isGatewayError(err) && err.code === 'GW_DEPENDENCY_DOWN') || isStoreUnreachable(err)
}

export function registerHeartbeatRoute (app: FastifyInstance, deps: HeartbeatDeps): void {
  /** The node whose key this is, from the view, else from the store; throws 401 when none. */
  async function recognise (id: string, key: string): Promise<KnownNode> {
    const viewed = deps.routing.current()?.nodes.nodesById.get(id)?.doc
    if (viewed !== undefined && keyMatches(key, viewed.key_hash)) return viewed
    // Not in the view, or its key changed since the view was built.
    const stored = await deps.nodes.findOne({ _id: id }, { projection: { key_hash: 1, draining: 1 } })
    // An unknown node and a wrong key answer alike, so ids cannot be probed.
    if (stored === null || !keyMatches(key, stored.key_hash)) throw gatewayError('GW_TOKEN_INVALID', 'unknown node or wrong node key')
    return stored
  }

  app.post<{ Params: { id: string }, Body: HeartbeatBody }>('/api/v1/nodes/:id/heartbeat', {
    schema: {
      params: IdParams,
      body: HeartbeatBody,
      response: {
        200: HeartbeatAnswer,
        400: ErrorResponse,
        401: ErrorResponse,
        503: ErrorResponse
      }
    }
  }, async (request) => {
    const id = request.params.id
    const key = nodeKeyOf(request, undefined)
    if (key === undefined) throw gatewayError('GW_TOKEN_MISSING', 'send the node key as Authorization: Bearer')
    const node = await recognise(id, key)
    const { sessions, mbps, cpu, status = 'up' } = request.body
    const beat: NodeLiveness = { last_seen: new Date(deps.now()), load: { sessions, mbps, cpu }, reported_status: status }
    let stored: Pick<NodeDoc, 'draining'> | null
    try {
      // One round trip that also answers with the admin's drain as stored now.
      stored = await deps.nodes.findOneAndUpdate({ _id: id, key_hash: node.key_hash }, { $set: beat }, { projection: { draining: 1 }, returnDocument: 'after' })
    } catch (err) {
      const snapshot = deps.routing.current()
      if (!unreachable(err) || snapshot === undefined || !applyBeatInPlace(snapshot, id, beat)) throw err
      request.log.debug({ node: id }, 'heartbeat applied to this replica only: the store is unreachable')
      return { node: id, status, draining: node.draining, stored: false, leases_renewed: false, node_ttl_s: deps.nodeTtlS }
    }
    if (stored === null) throw gatewayError('GW_TOKEN_INVALID', 'unknown node or wrong node key')
    let renewed = true
    if (deps.afterBeat !== undefined) {
      try {
        await deps.afterBeat(id)
      } catch (err) {
        renewed = false
        request.log.warn({ node: id, err }, 'the node\'s play leases were not renewed; its next heartbeat tries again')
      }
    }
    return { node: id, status, draining: stored.draining === true, stored: true, leases_renewed: renewed, node_ttl_s: deps.nodeTtlS }
  })
}
