// An HLS session's own URLs on geogate (HLS Content Steering, RFC 8216bis §4.4.6.6 and Apple's
// Content Steering specification): the multivariant playlist the HLS answer's 302 leads to, and
// the steering manifest its player asks again every TTL. Both are signed by the token in their
// path (src/signing/steering-token.ts), which names the session and its pathway nodes.
//
//   GET /hls/steer/S/C/T/index.m3u8    one #EXT-X-STREAM-INF per pathway node still in the view,
//                                      each that node's grant-in-path media playlist with a grant
//                                      of the session (one sid: one session and one tariff slot,
//                                      whichever node the player plays from); served within the
//                                      grants' lifetime after the session was answered (401 after)
//   GET /hls/steer/S/C/T/steering.json {"VERSION":1,"TTL":…,"RELOAD-URI":…,"PATHWAY-PRIORITY":[…]},
//                                      the pathways by the live state now (pathway-priority.ts);
//                                      RELOAD-URI carries the token renewed; 410 once the token's
//                                      lease ran out or the session reached HLS_SESSION_MAX_S
//
// A token that is not geogate's, tampered with or malformed is 401, one for another camera 403.
// Both are fetched across origins by browser players: Access-Control-Allow-Origin as on the
// redirect, errors included. The manifest is asked by every playing viewer every TTL, so it reads
// only memory (the routing view and remembered tokens) and is written as a string.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type, type Static } from 'typebox'
import { pathwayPriority } from '../../balancing/pathway-priority.js'
import { gatewayError } from '../../errors.js'
import { ErrorResponse } from '../../http/schemas.js'
import type { RoutingSnapshot, RoutingSnapshotSource } from '../../routing/routing-snapshot.js'
import type { RedirectGrants } from '../../signing/redirect-grants.js'
import { SteeringTokenError, type SteeringClaims, type SteeringTokens } from '../../signing/steering-token.js'
import { nodeStreamUrl } from './node-url.js'
import { MANIFEST_FILE, MANIFEST_FROM_PLAYLIST, STEERING_PREFIX, manifestFromManifest, pathwayId } from './steering-paths.js'

export interface SteeringDeps {
  tokens: SteeringTokens
  /** The manifest's TTL (s). */
  ttlS: number
  /** HLS_SESSION_MAX_S: past it from the session's answer, the manifest is gone. */
  sessionMaxS: number
}

/** What a player told of itself when it asked for its steering manifest, and what it was told. */
export interface SteeringFeedback {
  client: string
  owner: string
  server: string
  camera: string
  /** The node the player said it plays from (_HLS_pathway), when it is one of its pathways. */
  pathway: string | null
  /** The throughput the player measured (_HLS_throughput, bits/s). */
  throughput: number | null
  /** The pathway it was told to use first. */
  first: string
  ms: number
}

export interface SteeringRouteOptions {
  steering: SteeringDeps
  routing: Pick<RoutingSnapshotSource, 'current'>
  grants: RedirectGrants
  signatureParam: string
  nodeTtlMs: number
  now: () => number
  corsOrigin: string
  onFeedback?: (feedback: SteeringFeedback) => void
}

// One wildcard route, read here: a token is longer than the router lets a path parameter be.
const SteeringParams = Type.Object({
  '*': Type.String({
    pattern: '^[A-Za-z0-9._:-]{1,64}/[A-Za-z0-9._:-]{1,64}/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+/(index\\.m3u8|steering\\.json)$',
    maxLength: 4400,
    description: 'SERVER/CAMERA/TOKEN/index.m3u8 (the multivariant playlist) or SERVER/CAMERA/TOKEN/steering.json (the steering manifest)'
  })
})
type SteeringParams = Static<typeof SteeringParams>

/** The parts of a steering path the schema let through. */
interface SteeringPath {
  server: string
  camera: string
  token: string
  file: string
}

function readPath (params: SteeringParams): SteeringPath {
  const [server = '', camera = '', token = '', file = ''] = params['*'].split('/')
  return { server, camera, token, file }
}

const ManifestQuery = Type.Object({
  _HLS_pathway: Type.Optional(Type.String({ maxLength: 128, description: 'the pathway the player plays from' })),
  _HLS_throughput: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'the throughput the player measured (bits/s)' }))
})
type ManifestQuery = Static<typeof ManifestQuery>

/**
 * Nothing in the playlist needs more than version 3; players that know no Content Steering
 * ignore its tags and attributes and play the first variant.
 */
const PLAYLIST_VERSION = 3
/**
 * geogate does not know a stream's bitrate; every pathway carries the same single variant, so
 * no player switches on it. BANDWIDTH is required, so it is nominal.
 */
const NOMINAL_BANDWIDTH = 2_000_000

export function registerSteeringRoutes (app: FastifyInstance, options: SteeringRouteOptions): void {
  const { steering, routing, grants, now, nodeTtlMs } = options
  const { tokens } = steering
  const headers = { 'cache-control': 'no-store', 'access-control-allow-origin': options.corsOrigin }
  const config = { errorHeaders: headers }
  const errors = { 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 410: ErrorResponse, 503: ErrorResponse }

  function claimsOf (params: SteeringPath): SteeringClaims {
    let claims: SteeringClaims
    try {
      claims = tokens.read(params.token)
    } catch (err) {
      if (err instanceof SteeringTokenError) throw gatewayError('GW_TOKEN_INVALID', err.message)
      throw err
    }
    if (claims.sub !== `${params.server}/${params.camera}`) throw gatewayError('GW_FORBIDDEN', 'this steering URL is for another camera')
    return claims
  }

  function view (): RoutingSnapshot {
    const current = routing.current()
    if (current === undefined) throw gatewayError('GW_DEPENDENCY_DOWN', 'the node list has not loaded yet')
    return current
  }

  app.get<{ Params: SteeringParams, Querystring: ManifestQuery }>(`${STEERING_PREFIX}/*`, {
    schema: {
      params: SteeringParams,
      querystring: ManifestQuery,
      response: { 200: Type.String({ description: 'the multivariant playlist (application/vnd.apple.mpegurl), or the steering manifest (application/json)' }), ...errors }
    },
    config
  }, async (request, reply) => {
    const path = readPath(request.params)
    return path.file === MANIFEST_FILE ? await manifest(request, reply, path) : await multivariant(reply, path)
  })

  async function multivariant (reply: FastifyReply, params: SteeringPath): Promise<FastifyReply> {
    const { server, camera } = params
    const claims = claimsOf(params)
    const t = now()
    // The grants signed here bound when the session may start, as the answer's own would.
    if (t >= (claims.st + tokens.startS) * 1000) throw gatewayError('GW_TOKEN_INVALID', 'this HLS URL expired before its session started; ask the gateway for a new one')
    const snapshot = view()
    const order = pathwayPriority(snapshot.nodes, claims.pw, undefined, snapshot.livenessFrozenAt ?? t, nodeTtlMs)
    const variants: string[] = []
    for (const id of claims.pw) {
      const node = snapshot.nodes.nodesById.get(id)
      if (node === undefined) continue
      const grant = grants.grant({
        aud: id,
        sub: claims.sub,
        fmt: 'hls',
        own: claims.own,
        sid: claims.sid,
        ...(claims.tid !== undefined && { tid: claims.tid }),
        ...(claims.cip !== undefined && { cip: claims.cip })
      })
      variants.push(
        `#EXT-X-STREAM-INF:BANDWIDTH=${NOMINAL_BANDWIDTH},PATHWAY-ID="${pathwayId(id)}",STABLE-VARIANT-ID="live"`,
        nodeStreamUrl(node.doc, 'hls', server, camera, options.signatureParam, grant.token)
      )
    }
    const first = order.find((id) => snapshot.nodes.nodesById.has(id))
    if (first === undefined) throw gatewayError('GW_NO_NODE', 'none of this session\'s nodes is known any more; ask the gateway again')
    const playlist = [
      '#EXTM3U',
      `#EXT-X-VERSION:${PLAYLIST_VERSION}`,
      `#EXT-X-CONTENT-STEERING:SERVER-URI="${MANIFEST_FROM_PLAYLIST}",PATHWAY-ID="${pathwayId(first)}"`,
      ...variants,
      ''
    ].join('\n')
    return send(reply, 'application/vnd.apple.mpegurl', playlist)
  }

  const ttl = String(steering.ttlS)
  const halfLeaseS = tokens.leaseS / 2

  async function manifest (request: FastifyRequest<{ Querystring: ManifestQuery }>, reply: FastifyReply, params: SteeringPath): Promise<FastifyReply> {
    const startedAt = performance.now()
    const claims = claimsOf(params)
    const t = now()
    const nowS = t / 1000
    if (nowS >= claims.exp) throw gatewayError('GW_SESSION_GONE', 'this steering URL\'s session is over: its player stopped asking for it')
    if (nowS >= claims.st + steering.sessionMaxS) throw gatewayError('GW_SESSION_GONE', 'this HLS session has reached its longest duration')
    const snapshot = view()
    const reported = request.query._HLS_pathway
    const current = reported === undefined ? undefined : claims.pw.find((id) => pathwayId(id) === reported)
    const order = pathwayPriority(snapshot.nodes, claims.pw, current, snapshot.livenessFrozenAt ?? t, nodeTtlMs)
    // The token is renewed once half its lease is gone: until then the player shows the one it has.
    const reload = claims.exp - nowS < halfLeaseS ? tokens.renew(claims) : params.token
    let priority = ''
    for (const id of order) priority += (priority === '' ? '"' : ',"') + pathwayId(id) + '"'
    const body = '{"VERSION":1,"TTL":' + ttl + ',"RELOAD-URI":"' + manifestFromManifest(reload) + '","PATHWAY-PRIORITY":[' + priority + ']}'
    const throughput = request.query._HLS_throughput
    options.onFeedback?.({
      client: request.clientAddress,
      owner: claims.own,
      server: params.server,
      camera: params.camera,
      pathway: current ?? null,
      throughput: throughput === undefined ? null : Number(throughput),
      first: order[0] as string,
      ms: performance.now() - startedAt
    })
    return send(reply, 'application/json', body)
  }

  function send (reply: FastifyReply, type: string, body: string): FastifyReply {
    // A string is sent as it is: no serializer runs on it.
    return reply.code(200).headers(headers).type(type).send(body)
  }
}
