// PATCH /api/v1/<collection>/:id with a JSON merge patch (RFC 7396): an admin changes one field,
// say a node's weight with {"weight": 3}, without sending the whole document. The patched
// document is checked whole against the collection's schema; a patch that leaves it invalid
// answers 400 and changes nothing.

import type { FastifyInstance } from 'fastify'
import type { Document } from 'mongodb'
import { Type } from 'typebox'
import { gatewayError } from '../../errors.js'
import { depthLimitedJsonParser, MERGE_PATCH_TYPE } from '../../http/json-body.js'
import { ErrorResponse } from '../../http/schemas.js'
import { actorOf, requireRole } from './admin-auth.js'
import { recordAudit } from './audit.js'
import { withDefaults } from './collection-defaults.js'
import type { AdminCollection, CrudDeps } from './crud-routes.js'
import { checkDocument } from './document-check.js'
import { applyMergePatch } from './merge-patch.js'
import { IdParams } from '../../http/schemas.js'

export { MERGE_PATCH_TYPE }

const PatchBody = Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), {
  description: `a JSON merge patch (RFC 7396), sent as ${MERGE_PATCH_TYPE} or application/json: null removes a field, which then returns to its default`
})

/** Lets the app parse merge patches as JSON, with the depth limit of every JSON body; once per app. */
export function acceptMergePatches (app: FastifyInstance): void {
  if (app.hasContentTypeParser(MERGE_PATCH_TYPE)) return
  app.addContentTypeParser(MERGE_PATCH_TYPE, { parseAs: 'string' }, depthLimitedJsonParser(app))
}

/** The fields of doc that its body schema knows: what a patch may change. */
function editable (spec: AdminCollection<any, any>, doc: Record<string, unknown>): Record<string, unknown> {
  const properties = (spec.body as { properties?: Record<string, unknown> }).properties ?? {}
  return Object.fromEntries(Object.entries(doc).filter(([key]) => key in properties))
}

export function registerPatchRoute<Doc extends Document & { _id: string }, Body extends { _id: string }> (
  app: FastifyInstance, deps: CrudDeps, spec: AdminCollection<Doc, Body>
): void {
  acceptMergePatches(app)
  const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 415: ErrorResponse, 503: ErrorResponse }
  app.patch<{ Params: { id: string }, Body: Record<string, unknown> }>(`/api/v1/${spec.path}/:id`, {
    schema: { consumes: [MERGE_PATCH_TYPE, 'application/json'], params: IdParams, body: PatchBody, response: { 200: spec.view ?? spec.body, ...errors } }
  }, async (request) => {
    const principal = await requireRole(deps.auth, request, 'admin')
    const id = request.params.id
    const existing = await spec.collection.findOne({ _id: id } as never) as Doc | null
    if (existing === null) throw gatewayError('GW_NOT_FOUND', `no ${spec.name} ${id}`)
    const patched = withDefaults(spec.defaults, applyMergePatch(editable(spec, existing), request.body) as Record<string, unknown>)
    if (patched._id !== id) throw gatewayError('GW_BAD_REQUEST', '_id cannot be changed: create a new document instead')
    checkDocument(spec.body, patched)
    const doc = spec.toStored(patched as Body, existing)
    await spec.collection.replaceOne({ _id: id } as never, doc as never)
    await recordAudit(deps.audit, { actor: actorOf(principal), action: 'update', collection: spec.name, id, before: spec.toPublic(existing), after: spec.toPublic(doc) }, new Date(deps.now()))
    return spec.toPublic(doc)
  })
}
