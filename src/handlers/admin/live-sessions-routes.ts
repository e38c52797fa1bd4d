// /api/v1/sessions: who watches what, now. GET lists the live sessions of every kind (hook
// plays and HLS sessions), filtered and paged, with counts per node, camera and account; a
// `read` token may look. DELETE /api/v1/sessions/:id ends one (an `admin` token): its slot is
// free at once, every replica refuses an HLS session's next request, a hook play is dropped at
// its node; the audit trail records who ended what.
//
// A session's id is its document's _id, which may hold '%' and ':' (src/billing/sessions.ts):
// in a path it is sent URL-encoded (encodeURIComponent), as the console does.

import type { FastifyInstance } from 'fastify'
import { Type, type Static } from 'typebox'
import type { AuthClient } from '../../auth/auth-client.js'
import { countLiveSessions, listLiveSessions } from '../../billing/live-sessions.js'
import type { SessionEnder } from '../../billing/end-session.js'
import { gatewayError } from '../../errors.js'
import { ErrorResponse, Id } from '../../http/schemas.js'
import { streamFormats, type SessionDoc } from '../../store/documents.js'
import type { Collections } from '../../store/mongo.js'
import { actorOf, requireRole } from './admin-auth.js'
import { recordAudit } from './audit.js'

const DEFAULT_LIMIT = 100
const MAX_LIMIT = 1000

/** A session document's _id: percent-encoded parts joined by ':' (never a raw '/'). */
export const SESSION_ID_PATTERN = '^[A-Za-z0-9._~!*\'()%:-]{1,600}$'

const Format = Type.Union([Type.Literal(streamFormats[0]), Type.Literal(streamFormats[1]), Type.Literal(streamFormats[2])])

const SessionsQuery = Type.Object({
  account: Type.Optional(Id),
  node: Type.Optional(Id),
  server: Type.Optional(Id),
  camera: Type.Optional(Id),
  format: Type.Optional(Format),
  limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$', description: `sessions per page, at most ${MAX_LIMIT}; ${DEFAULT_LIMIT} by default` })),
  after: Type.Optional(Type.String({ pattern: SESSION_ID_PATTERN, description: 'the `next` of the previous page' }))
}, { additionalProperties: false })
type SessionsQuery = Static<typeof SessionsQuery>

const Time = Type.String({ format: 'date-time' })
const OrNull = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()])

export const SessionView = Type.Object({
  id: Type.String({ description: 'the session\'s id: URL-encode it in DELETE /api/v1/sessions/{id}' }),
  kind: Type.Union([Type.Literal('hls'), Type.Literal('hook')], { description: 'hls: kept alive by its viewer\'s requests at /verify; hook: a play a node\'s on_play admitted' }),
  account: Type.String(),
  token_id: OrNull(Type.String({ description: 'the access token\'s id (its sha256, as GET /api/v1/tokens shows it); never the token' })),
  server: Type.String(),
  camera: Type.String(),
  node: Type.String(),
  format: Format,
  client_id: Type.String({ description: 'the node\'s id for the connection (hook plays), or the HLS session\'s own' }),
  address: OrNull(Type.String({ description: 'the viewer\'s address, as the node reported it' })),
  country: OrNull(Type.String({ description: 'the viewer\'s country by the gateway\'s local database at the start' })),
  started_at: Time,
  last_seen: OrNull(Time),
  expires_at: Type.String({ format: 'date-time', description: 'when its lease ends unless renewed' })
})

const Counts = Type.Object({
  total: Type.Integer(),
  nodes: Type.Array(Type.Object({ node: Type.String(), sessions: Type.Integer() })),
  cameras: Type.Array(Type.Object({ server: Type.String(), camera: Type.String(), sessions: Type.Integer() })),
  accounts: Type.Array(Type.Object({ account: Type.String(), sessions: Type.Integer() }))
}, { description: 'live sessions that match the filter, per node, camera and account (the busiest 500 of each)' })

const SessionsPage = Type.Object({
  items: Type.Array(SessionView),
  next: Type.Union([Type.String(), Type.Null()], { description: 'pass as `after` for the next page; null on the last' }),
  counts: Counts
})

const Ended = Type.Object({
  id: Type.String(),
  kind: SessionView.properties.kind,
  ended_at: Time,
  viewer: Type.Union([Type.Literal('refused'), Type.Literal('dropped'), Type.Literal('not_dropped')], {
    description: 'refused: an HLS session, refused at its next request on every replica; dropped: the node dropped the play; not_dropped: it could not (see message)'
  }),
  message: Type.Optional(Type.String())
})

const SessionParams = Type.Object({ id: Type.String({ pattern: SESSION_ID_PATTERN }) }, { additionalProperties: false })

export function publicSession (doc: SessionDoc): Static<typeof SessionView> {
  return {
    id: doc._id,
    kind: doc.renewed_by === 'requests' ? 'hls' : 'hook',
    account: doc.owner,
    token_id: doc.tid ?? null,
    server: doc.server,
    camera: doc.camera,
    node: doc.node,
    format: doc.format,
    client_id: doc.client_id,
    address: doc.address ?? null,
    country: doc.country ?? null,
    started_at: doc.started_at.toISOString(),
    last_seen: doc.last_seen?.toISOString() ?? null,
    expires_at: doc.expires_at.toISOString()
  }
}

export interface LiveSessionsRouteDeps {
  auth: Pick<AuthClient, 'authorize'>
  collections: Pick<Collections, 'sessions' | 'audit'>
  ender: SessionEnder
  now: () => number
}

export function registerLiveSessionsRoutes (app: FastifyInstance, deps: LiveSessionsRouteDeps): void {
  const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 503: ErrorResponse }

  app.get<{ Querystring: SessionsQuery }>('/api/v1/sessions', {
    schema: { querystring: SessionsQuery, response: { 200: SessionsPage, ...errors } }
  }, async (request) => {
    await requireRole(deps.auth, request, 'read')
    const { limit, after, ...filter } = request.query
    const nowMs = deps.now()
    const [page, counts] = await Promise.all([
      listLiveSessions(deps.collections.sessions, filter, { limit: Math.min(Number(limit ?? DEFAULT_LIMIT), MAX_LIMIT), nowMs, ...(after !== undefined && { after }) }),
      countLiveSessions(deps.collections.sessions, filter, nowMs)
    ])
    return { items: page.items.map(publicSession), next: page.next, counts }
  })

  app.delete<{ Params: { id: string } }>('/api/v1/sessions/:id', {
    schema: { params: SessionParams, response: { 200: Ended, 404: ErrorResponse, ...errors } }
  }, async (request) => {
    const principal = await requireRole(deps.auth, request, 'admin')
    const actor = actorOf(principal)
    const ended = await deps.ender.end(request.params.id, actor, 'ended')
    if (ended === null) throw gatewayError('GW_NOT_FOUND', 'no live session has this id')
    const { session, endedAt, stop } = ended
    const before = publicSession(session)
    await recordAudit(deps.collections.audit, {
      actor,
      action: 'end',
      collection: 'sessions',
      id: session._id,
      before,
      after: { ...before, expires_at: endedAt.toISOString(), ended_at: endedAt.toISOString(), end_reason: 'ended' }
    }, endedAt)
    return {
      id: session._id,
      kind: before.kind,
      ended_at: endedAt.toISOString(),
      viewer: stop.how,
      ...(stop.how === 'not_dropped' && { message: stop.message })
    }
  })
}
