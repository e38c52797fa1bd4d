// /api/v1/tokens: issue and revoke access tokens. A new token is shown once, in the answer to
// its creation; the store and every later answer hold only its sha256. Gateways may keep
// answering from a cached grant for up to AUTH_GRANT_TTL_MS after a revocation. A token may be
// given max_sessions, the most viewers it feeds at once (src/billing/token-slots.ts).

import type { FastifyInstance } from 'fastify'
import { Type, type Static } from 'typebox'
import type { AuthClient } from '../../auth/auth-client.js'
import { createToken, MAX_SESSIONS_LIMIT, revokeToken } from '../../auth/token-admin.js'
import { hashToken } from '../../auth/token-hash.js'
import { gatewayError } from '../../errors.js'
import { ErrorResponse } from '../../http/schemas.js'
import type { TokenDoc } from '../../store/documents.js'
import type { Collections } from '../../store/mongo.js'
import { actorOf, requireRole } from './admin-auth.js'
import { recordAudit } from './audit.js'
import { Id } from '../../http/schemas.js'

const Grant = Type.Object({
  object_type: Type.String({ pattern: '^[a-z_]{1,32}$' }),
  object_id: Type.String({ pattern: '^[A-Za-z0-9._:/*-]{1,200}$' }),
  rights: Type.Array(Type.String({ pattern: '^[a-z_]{1,32}$' }), { minItems: 1, maxItems: 32, uniqueItems: true })
}, { additionalProperties: false })

const MaxSessions = Type.Integer({
  minimum: 1,
  maximum: MAX_SESSIONS_LIMIT,
  description: 'the most viewers the token may feed at once (sharing), beside its owner\'s tariff; omitted or null: no limit of its own'
})

export const NewTokenBody = Type.Object({
  owner_type: Type.String({ pattern: '^[a-z_]{1,32}$' }),
  owner_id: Id,
  grants: Type.Array(Grant, { minItems: 1, maxItems: 256 }),
  /** Seconds from now; omitted: the token does not expire. */
  expires_in_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 * 365 * 86_400 })),
  max_sessions: Type.Optional(Type.Union([MaxSessions, Type.Null()]))
}, { additionalProperties: false })
export type NewTokenBody = Static<typeof NewTokenBody>

const TokenView = Type.Object({
  id: Type.String({ description: 'sha256 of the token' }),
  owner_type: Type.String(),
  owner_id: Type.String(),
  grants: Type.Array(Grant),
  expires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  max_sessions: Type.Union([MaxSessions, Type.Null()])
})
const NewToken = Type.Object({ token: Type.String({ description: 'the token, shown only in this answer' }), ...TokenView.properties })
const Done = Type.Null({ description: 'done' })

/** What may change in a token once it is issued: its sharing limit. */
const TokenPatch = Type.Object({ max_sessions: Type.Union([MaxSessions, Type.Null()]) }, { additionalProperties: false })
const RevokeBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false })
const HashParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{64}$' }) }, { additionalProperties: false })

export interface TokenRouteDeps {
  auth: Pick<AuthClient, 'authorize'>
  collections: Pick<Collections, 'tokens' | 'audit'>
  now: () => number
}

function publicToken (doc: TokenDoc): Record<string, unknown> {
  return { id: doc._id, owner_type: doc.owner_type, owner_id: doc.owner_id, grants: doc.grants, expires_at: doc.expires_at?.toISOString() ?? null, max_sessions: doc.max_sessions ?? null }
}

export function registerTokenRoutes (app: FastifyInstance, deps: TokenRouteDeps): void {
  const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse }
  const { tokens, audit } = deps.collections

  app.get('/api/v1/tokens', { schema: { response: { 200: Type.Object({ items: Type.Array(TokenView) }), ...errors } } }, async (request) => {
    await requireRole(deps.auth, request, 'read')
    const docs = await tokens.find({}).sort({ owner_id: 1 }).limit(1000).toArray()
    return { items: docs.map(publicToken) }
  })

  app.post<{ Body: NewTokenBody }>('/api/v1/tokens', { schema: { body: NewTokenBody, response: { 201: NewToken, ...errors } } }, async (request, reply) => {
    const principal = await requireRole(deps.auth, request, 'admin')
    const body = request.body
    const expiresAt = body.expires_in_s !== undefined ? new Date(deps.now() + body.expires_in_s * 1000) : null
    const { token, doc } = await createToken(tokens, {
      owner_type: body.owner_type, owner_id: body.owner_id, grants: body.grants, expires_at: expiresAt, max_sessions: body.max_sessions ?? null
    })
    await recordAudit(audit, { actor: actorOf(principal), action: 'create', collection: 'tokens', id: doc._id, before: null, after: publicToken(doc) }, new Date(deps.now()))
    return reply.code(201).send({ token, ...publicToken(doc) })
  })

  app.post<{ Body: { token: string } }>('/api/v1/tokens/revoke', { schema: { body: RevokeBody, response: { 204: Done, ...errors } } }, async (request, reply) => {
    const principal = await requireRole(deps.auth, request, 'admin')
    const doc = await tokens.findOne({ _id: hashToken(request.body.token) })
    if (doc === null || !await revokeToken(tokens, request.body.token)) throw gatewayError('GW_NOT_FOUND', 'no such token')
    await recordAudit(audit, { actor: actorOf(principal), action: 'delete', collection: 'tokens', id: doc._id, before: publicToken(doc), after: null }, new Date(deps.now()))
    return reply.code(204).send()
  })

  // A token seen shared (the sessions list) is limited without being reissued; gateways learn it
  // within AUTH_GRANT_TTL_MS, and plays already admitted keep their slots.
  app.patch<{ Params: { id: string }, Body: Static<typeof TokenPatch> }>('/api/v1/tokens/:id', {
    schema: { params: HashParams, body: TokenPatch, response: { 200: TokenView, ...errors } }
  }, async (request) => {
    const principal = await requireRole(deps.auth, request, 'admin')
    const before = await tokens.findOne({ _id: request.params.id })
    if (before === null) throw gatewayError('GW_NOT_FOUND', 'no such token')
    const limit = request.body.max_sessions
    const doc = await tokens.findOneAndUpdate(
      { _id: request.params.id },
      limit === null ? { $unset: { max_sessions: '' } } : { $set: { max_sessions: limit } },
      { returnDocument: 'after' }
    )
    if (doc === null) throw gatewayError('GW_NOT_FOUND', 'no such token')
    await recordAudit(audit, { actor: actorOf(principal), action: 'update', collection: 'tokens', id: doc._id, before: publicToken(before), after: publicToken(doc) }, new Date(deps.now()))
    return publicToken(doc)
  })

  app.delete<{ Params: { id: string } }>('/api/v1/tokens/:id', { schema: { params: HashParams, response: { 204: Done, ...errors } } }, async (request, reply) => {
    const principal = await requireRole(deps.auth, request, 'admin')
    const doc = await tokens.findOne({ _id: request.params.id })
    const { deletedCount } = await tokens.deleteOne({ _id: request.params.id })
    if (doc === null || deletedCount === 0) throw gatewayError('GW_NOT_FOUND', 'no such token')
    await recordAudit(audit, { actor: actorOf(principal), action: 'delete', collection: 'tokens', id: doc._id, before: publicToken(doc), after: null }, new Date(deps.now()))
    return reply.code(204).send()
  })
}
