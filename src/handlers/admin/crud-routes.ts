// CRUD under /api/v1/<collection>: list, get, create, replace, delete. Bodies are validated by
// schema before anything touches MongoDB; every write is audited.

import type { FastifyInstance } from 'fastify'
import type { Collection, Document } from 'mongodb'
import type { TSchema } from 'typebox'
import type { AuthClient } from '../../auth/auth-client.js'
import { gatewayError } from '../../errors.js'
import { ErrorResponse } from '../../http/schemas.js'
import { actorOf, requireRole } from './admin-auth.js'
import { recordAudit } from './audit.js'
import { IdParams } from '../../http/schemas.js'
import type { Collections } from '../../store/mongo.js'
import { Type } from 'typebox'
import { createSchema, withDefaults, type CollectionDefaults } from './collection-defaults.js'
import { checkDocument } from './document-check.js'
import { listOf } from './view-schemas.js'

export interface AdminCollection<Doc extends Document & { _id: string }, Body extends { _id: string }> {
  /** URL segment, e.g. 'geo-groups'. */
  path: string
  /** Collection name recorded in the audit log. */
  name: string
  collection: Collection<Doc>
  body: TSchema
  /** What a create may leave out, and what it then gets. */
  defaults: CollectionDefaults
  /** The schema of toPublic's answer; the body's when absent. */
  view?: TSchema
  /** Runs on a create's body before it is stored; `shown` joins the answer, once. */
  onCreate?: (body: Body) => { body: Body, shown: Record<string, unknown> }
  /** The stored document for body; existing is the document it replaces, if any. */
  toStored: (body: Body, existing: Doc | null) => Doc
  /** What the API shows of a stored document (secrets removed). */
  toPublic: (doc: Doc) => unknown
}

export interface CrudDeps {
  auth: Pick<AuthClient, 'authorize'>
  audit: Collections['audit']
  now: () => number
}

const LIST_LIMIT = 1000
const Deleted = Type.Null({ description: 'deleted' })
const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 503: ErrorResponse }

export function registerCrudRoutes<Doc extends Document & { _id: string }, Body extends { _id: string }> (
  app: FastifyInstance, deps: CrudDeps, spec: AdminCollection<Doc, Body>
): void {
  const base = `/api/v1/${spec.path}`
  const byId = (id: string): never => ({ _id: id }) as never
  const view = spec.view ?? spec.body
  const ListQuery = Type.Object({ limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$' })) }, { additionalProperties: false })

  app.get<{ Querystring: { limit?: string } }>(base, { schema: { querystring: ListQuery, response: { 200: listOf(view), ...errors } } }, async (request) => {
    await requireRole(deps.auth, request, 'read')
    const docs = await spec.collection.find({}).sort({ _id: 1 }).limit(Math.min(Number(request.query.limit ?? LIST_LIMIT), LIST_LIMIT)).toArray()
    return { items: docs.map((doc) => spec.toPublic(doc as Doc)) }
  })

  app.get<{ Params: { id: string } }>(`${base}/:id`, { schema: { params: IdParams, response: { 200: view, ...errors } } }, async (request) => {
    await requireRole(deps.auth, request, 'read')
    const doc = await spec.collection.findOne(byId(request.params.id))
    if (doc === null) throw gatewayError('GW_NOT_FOUND', `no ${spec.name} ${request.params.id}`)
    return spec.toPublic(doc as Doc)
  })

  app.post<{ Body: Body }>(base, { schema: { body: createSchema(spec.body, spec.defaults), response: { 201: view, ...errors } } }, async (request, reply) => {
    const principal = await requireRole(deps.auth, request, 'admin')
    const filled = withDefaults(spec.defaults, request.body as Record<string, unknown>)
    checkDocument(spec.body, filled)
    const { body, shown } = spec.onCreate?.(filled as Body) ?? { body: filled as Body, shown: {} }
    const doc = spec.toStored(body, null)
    try {
      await spec.collection.insertOne(doc as never)
    } catch (err) {
      if ((err as { code?: number }).code === 11000) throw gatewayError('GW_CONFLICT', `${spec.name} ${doc._id} already exists`)
      throw err
    }
    await recordAudit(deps.audit, { actor: actorOf(principal), action: 'create', collection: spec.name, id: doc._id, before: null, after: spec.toPublic(doc) }, new Date(deps.now()))
    return reply.code(201).send({ ...spec.toPublic(doc) as object, ...shown })
  })

  app.put<{ Params: { id: string }, Body: Body }>(`${base}/:id`, { schema: { params: IdParams, body: spec.body, response: { 200: view, ...errors } } }, async (request) => {
    const principal = await requireRole(deps.auth, request, 'admin')
    const body = request.body as Body
    if (body._id !== request.params.id) throw gatewayError('GW_BAD_REQUEST', 'the body\'s _id differs from the URL\'s')
    const existing = await spec.collection.findOne(byId(request.params.id)) as Doc | null
    if (existing === null) throw gatewayError('GW_NOT_FOUND', `no ${spec.name} ${request.params.id}`)
    const doc = spec.toStored(body, existing)
    await spec.collection.replaceOne(byId(doc._id), doc as never)
    await recordAudit(deps.audit, { actor: actorOf(principal), action: 'update', collection: spec.name, id: doc._id, before: spec.toPublic(existing), after: spec.toPublic(doc) }, new Date(deps.now()))
    return spec.toPublic(doc)
  })

  app.delete<{ Params: { id: string } }>(`${base}/:id`, { schema: { params: IdParams, response: { 204: Deleted, ...errors } } }, async (request, reply) => {
    const principal = await requireRole(deps.auth, request, 'admin')
    const existing = await spec.collection.findOne(byId(request.params.id))
    const { deletedCount } = await spec.collection.deleteOne(byId(request.params.id))
    if (existing === null || deletedCount === 0) throw gatewayError('GW_NOT_FOUND', `no ${spec.name} ${request.params.id}`)
    await recordAudit(deps.audit, { actor: actorOf(principal), action: 'delete', collection: spec.name, id: request.params.id, before: spec.toPublic(existing as Doc), after: null }, new Date(deps.now()))
    return reply.code(204).send()
  })
}
