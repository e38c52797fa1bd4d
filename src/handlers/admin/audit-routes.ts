// GET /api/v1/audit: the audit trail, newest first, a page at a time. `before` is the id of the
// last entry of the previous page (its `next`); entry ids are MongoDB ObjectIds, which grow
// with the time they were made, so paging by them is paging back in time.

import type { FastifyInstance } from 'fastify'
import { ObjectId, type Filter } from 'mongodb'
import { Type, type Static } from 'typebox'
import { ErrorResponse } from '../../http/schemas.js'
import type { AuditDoc } from '../../store/documents.js'
import type { Collections } from '../../store/mongo.js'
import type { AuthClient } from '../../auth/auth-client.js'
import { requireRole } from './admin-auth.js'
import { Id } from '../../http/schemas.js'
import { SESSION_ID_PATTERN } from './live-sessions-routes.js'

const DEFAULT_LIMIT = 50
const MAX_LIMIT = 500

export const AuditQuery = Type.Object({
  collection: Type.Optional(Type.String({ pattern: '^[a-z_]{1,32}$', description: 'e.g. nodes, geo_groups, servers, tokens' })),
  id: Type.Optional(Type.Union([Id, Type.String({ pattern: '^[0-9a-f]{64}$' }), Type.String({ pattern: SESSION_ID_PATTERN })], { description: 'the changed document\'s id (a token\'s sha256, a session\'s id)' })),
  limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$', description: `entries per page, at most ${MAX_LIMIT}; ${DEFAULT_LIMIT} by default` })),
  before: Type.Optional(Type.String({ pattern: '^[0-9a-f]{24}$', description: 'the `next` of the previous page' }))
}, { additionalProperties: false })
type AuditQuery = Static<typeof AuditQuery>

const AuditEntry = Type.Object({
  entry: Type.String({ description: 'this entry\'s id, for `before`' }),
  at: Type.String({ format: 'date-time' }),
  actor: Type.String(),
  action: Type.String(),
  collection: Type.String(),
  id: Type.String(),
  before: Type.Unknown(),
  after: Type.Unknown()
})

const AuditPage = Type.Object({
  items: Type.Array(AuditEntry),
  next: Type.Union([Type.String(), Type.Null()], { description: 'pass as `before` for the next page; null on the last' })
})

export interface AuditRouteDeps {
  auth: Pick<AuthClient, 'authorize'>
  audit: Collections['audit']
}

export function registerAuditRoutes (app: FastifyInstance, deps: AuditRouteDeps): void {
  app.get<{ Querystring: AuditQuery }>('/api/v1/audit', {
    schema: { querystring: AuditQuery, response: { 200: AuditPage, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse } }
  }, async (request) => {
    await requireRole(deps.auth, request, 'read')
    const { collection, id, before } = request.query
    const limit = Math.min(Number(request.query.limit ?? DEFAULT_LIMIT), MAX_LIMIT)
    const filter: Filter<AuditDoc & { _id: ObjectId }> = {
      ...(collection !== undefined && { collection }),
      ...(id !== undefined && { id }),
      ...(before !== undefined && { _id: { $lt: new ObjectId(before) } })
    }
    const docs = await deps.audit.find(filter as Filter<AuditDoc>).sort({ _id: -1 }).limit(limit).toArray()
    const items = docs.map(({ _id, at, ...rest }) => ({ entry: _id.toHexString(), at: at.toISOString(), ...rest }))
    return { items, next: docs.length === limit ? (items.at(-1)?.entry ?? null) : null }
  })
}
