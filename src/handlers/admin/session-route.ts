// GET /api/v1/session: who a token is and what it may do, so the console shows edit controls
// only to a token that may write, and knows how old a heartbeat may get.

import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import type { AuthClient } from '../../auth/auth-client.js'
import { isGatewayError } from '../../errors.js'
import { ErrorResponse } from '../../http/schemas.js'
import { actorOf, requireRole } from './admin-auth.js'

const SessionAnswer = Type.Object({
  actor: Type.String({ description: 'owner_type:owner_id of the token' }),
  can_write: Type.Boolean({ description: 'whether the token has the admin right' }),
  node_ttl_s: Type.Integer({ description: 'a node with no heartbeat for this long gets no new viewers' })
})

export function registerSessionRoute (app: FastifyInstance, deps: { auth: Pick<AuthClient, 'authorize'>, nodeTtlS: number }): void {
  app.get('/api/v1/session', {
    schema: { response: { 200: SessionAnswer, 401: ErrorResponse, 403: ErrorResponse, 503: ErrorResponse } }
  }, async (request) => {
    const principal = await requireRole(deps.auth, request, 'read')
    const canWrite = await requireRole(deps.auth, request, 'admin').then(() => true, (err: unknown) => {
      if (isGatewayError(err) && err.code === 'GW_FORBIDDEN') return false
      throw err
    })
    return { actor: actorOf(principal), can_write: canWrite, node_ttl_s: deps.nodeTtlS }
  })
}
