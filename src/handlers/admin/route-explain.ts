// GET /api/v1/route: explains how a request would be routed — the location, the group chain
// tried, every candidate node with why it was or was not eligible, and the winner — without
// the stream's auth, billing or camera checks; whether the geo rule that applies (the camera's,
// the account's or its tariff's) lets the client in, naming the rule that decided; and the
// pathways an HLS viewer would be offered, in order, ranked by the very function the stream
// request ranks its alternates with, so that the two cannot disagree.

import type { FastifyInstance } from 'fastify'
import { Type, type Static } from 'typebox'
import type { AuthClient } from '../../auth/auth-client.js'
import { explainSelection } from '../../balancing/explain.js'
import type { BalancingPolicy } from '../../balancing/policy.js'
import { gatewayError } from '../../errors.js'
import { ipVersion, normalizeIp } from '../../geo/cidr.js'
import { matchGeoGroup } from '../../geo/match-geo-group.js'
import { countryAllowed, decidingGeoRule } from '../../geo/geo-rules.js'
import type { GeoLocator } from '../../geo/resolver-client.js'
import { ClientAddress, ErrorResponse, Role, UIN_PATTERN } from '../../http/schemas.js'
import { streamFormats, type ServerDoc } from '../../store/documents.js'
import type { Collections } from '../../store/mongo.js'
import type { RoutingSnapshotSource } from '../../routing/routing-snapshot.js'
import { overflowTarget, overflowUrl } from '../../balancing/overflow.js'
import { rankNodes } from '../../balancing/rank-nodes.js'
import type { ExplainedChoice } from '../../balancing/explain.js'
import type { SelectionOptions, SelectionRequest } from '../../balancing/select-node.js'
import type { Snapshot } from '../../balancing/snapshot.js'
import { pathwayId } from '../stream/steering-paths.js'
import { requireRole } from './admin-auth.js'
import { RouteAccess, RouteAnswer, RoutePathway } from './route-explain-schema.js'

export const RouteQuery = Type.Object({
  ip: ClientAddress,
  server: Type.String({ pattern: UIN_PATTERN }),
  camera: Type.Optional(Type.String({ pattern: UIN_PATTERN })),
  format: Type.Optional(Type.Union(streamFormats.map((f) => Type.Literal(f)))),
  pattern: Type.Optional(Role),
  account: Type.Optional(Type.String({ pattern: UIN_PATTERN, description: 'the account the stream would be billed to, for its geo rule; default the server\'s owner' }))
}, { additionalProperties: false })
type RouteQuery = Static<typeof RouteQuery>

export interface RouteExplainDeps {
  auth: Pick<AuthClient, 'authorize'>
  geo: Pick<GeoLocator, 'locate'>
  routing: Pick<RoutingSnapshotSource, 'current'>
  servers: Collections['servers']
  /** For the geo rules of the account and its tariff. */
  accounts: Collections['accounts']
  tariffs: Collections['tariffs']
  policy: BalancingPolicy
  nodeTtlMs: number
  /** STEERING_PATHWAYS: the alternates an answer offers beside the chosen node, as the stream request is told. */
  pathways: number
  now: () => number
}

export function registerRouteExplain (app: FastifyInstance, deps: RouteExplainDeps): void {
  app.get<{ Querystring: RouteQuery }>('/api/v1/route', {
    schema: { querystring: RouteQuery, response: { 200: RouteAnswer, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 503: ErrorResponse } }
  }, async (request) => {
    await requireRole(deps.auth, request, 'read')
    const query = request.query
    if (ipVersion(query.ip) === 0) throw gatewayError('GW_BAD_REQUEST', 'ip is not an IP address')
    const ip = normalizeIp(query.ip)
    const routing = deps.routing.current()
    if (routing === undefined) throw gatewayError('GW_DEPENDENCY_DOWN', 'the node list has not loaded yet')
    const [{ location, source }, server] = await Promise.all([
      deps.geo.locate(ip),
      deps.servers.findOne({ _id: query.server }, { projection: { partner: 1, owner: 1, cameras: 1 } })
    ])
    const access = await explainAccess(deps, query, server, location?.country_code ?? null)
    const match = matchGeoGroup(routing.geo, ip, location)
    const key = `${query.server}/${query.camera ?? ''}`
    const partner = server?.partner ?? ''
    const format = query.format ?? 'flv'
    const selection: SelectionRequest = { partner, group: match.group, pattern: query.pattern ?? 'streaming', format, key, ipv6: ip.includes(':') }
    // The stream request's clock: while liveness is frozen (the store away), node TTLs are
    // measured from when it was last read, or every node would look stale here alone.
    const options: SelectionOptions = { policy: deps.policy, nowMs: routing.livenessFrozenAt ?? deps.now(), nodeTtlMs: deps.nodeTtlMs }
    const explanation = explainSelection(routing.nodes, selection, options)
    // Where the stream would go with no node to take it: shown only when that is the answer.
    const target = explanation.chosen === null ? overflowTarget(routing.nodes, partner, match.group) : null
    return {
      location,
      location_source: source,
      group_rule: match.rule,
      access,
      partner: server?.partner ?? null,
      ...explanation,
      pathways: pathwaysOf(routing.nodes, selection, options, explanation.chosen, deps.pathways),
      overflow: target === null ? null : { ...target, redirect: overflowUrl(target, query.server, query.camera ?? '', format) }
    }
  })
}

/**
 * The chosen node, then the alternates the stream request would offer beside it: an HLS
 * viewer's pathways in the order its multivariant playlist lists them (and its first steering
 * manifest, while all are well, orders them); a JSON answer's alternates after the first.
 */
function pathwaysOf (
  snapshot: Snapshot, selection: SelectionRequest, options: SelectionOptions, chosen: ExplainedChoice | null, alternates: number
): Array<Static<typeof RoutePathway>> {
  if (chosen === null) return []
  const others = rankNodes(snapshot, selection, options, { limit: alternates, exclude: new Set([chosen.node]) })
    .map((ranked) => ({ node: ranked.node._id, group: ranked.group, pattern: ranked.pattern }))
  return [chosen, ...others].map((p) => ({ node: p.node, group: p.group, pattern: p.pattern, pathway: pathwayId(p.node) }))
}

/** Whether the geo rule lets the client in, and which rule decided (null: none applies). */
async function explainAccess (
  deps: Pick<RouteExplainDeps, 'accounts' | 'tariffs'>, query: RouteQuery, server: Pick<ServerDoc, 'owner' | 'cameras'> | null, country: string | null
): Promise<Static<typeof RouteAccess>> {
  const accountId = query.account ?? server?.owner
  const account = accountId === undefined ? null : await deps.accounts.findOne({ _id: accountId })
  const tariff = account === null ? null : await deps.tariffs.findOne({ _id: account.tariff })
  const camera = query.camera !== undefined && server?.cameras !== undefined && Object.hasOwn(server.cameras, query.camera) ? server.cameras[query.camera] : undefined
  const deciding = decidingGeoRule(camera, `${query.server}/${query.camera ?? ''}`, account, tariff)
  return {
    country,
    account: account?._id ?? null,
    rule: deciding === null ? null : { source: deciding.source, id: deciding.id, ...deciding.rule },
    allowed: deciding === null || countryAllowed(deciding.rule, country)
  }
}
