// POST /api/v1/nodes/:id/key: gives a node a new heartbeat key, shown once in the answer. Only
// its hash is stored, so the old key stops working at once, on every replica.

import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { hashToken } from '../../auth/token-hash.js'
import { gatewayError } from '../../errors.js'
import { ErrorResponse } from '../../http/schemas.js'
import { actorOf, requireRole } from './admin-auth.js'
import { generateNodeKey } from './admin-collections.js'
import { recordAudit } from './audit.js'
import type { CrudDeps } from './crud-routes.js'
import { IdParams } from '../../http/schemas.js'
import type { Collections } from '../../store/mongo.js'

const NewKey = Type.Object({
  node: Type.String(),
  key: Type.String({ description: 'the new heartbeat key, shown only in this answer' })
})

export function registerNodeKeyRoute (app: FastifyInstance, deps: CrudDeps & { nodes: Collections['nodes'] }): void {
  app.post<{ Params: { id: string } }>('/api/v1/nodes/:id/key', {
    schema: { params: IdParams, response: { 200: NewKey, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse } }
  }, async (request) => {
    const principal = await requireRole(deps.auth, request, 'admin')
    const id = request.params.id
    const key = generateNodeKey()
    const before = await deps.nodes.findOneAndUpdate({ _id: id }, { $set: { key_hash: hashToken(key) } }, { projection: { key_hash: 1 } })
    if (before === null) throw gatewayError('GW_NOT_FOUND', `no nodes ${id}`)
    // The audit says that the key changed, never what it is or was.
    await recordAudit(deps.audit, {
      actor: actorOf(principal), action: 'update', collection: 'nodes', id, before: { has_key: before.key_hash !== undefined }, after: { has_key: true, key_rotated: true }
    }, new Date(deps.now()))
    return { node: id, key }
  })
}
