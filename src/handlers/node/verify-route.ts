// GET /verify, for nginx `auth_request` on the node: is the signature in the original request
// URI good for this node, this camera and this format? nginx calls it for every request it
// guards, every HLS segment included, so it reads nothing from the store and caches nothing:
// a key removed from SIGNING_KEYS stops verifying at once. A verification costs ~10 µs.
//
// HLS is the exception (docs/design.md section 4, "HLS sessions"): its grant is in the path,
// /hls/G/S/C/…, and a grant starts a session that its requests keep alive past the grant's exp,
// counted against the tariff (src/billing/hls-sessions.ts). A grant is one viewer's: it starts
// sessions for one viewer address (X-Real-IP), or the few its tariff allows, and refuses the
// others with GW_GRANT_IN_USE. A warm session's check reads nothing from the store either.
//
// Only the node may ask: nginx sends the node's key (`Authorization: Bearer KEY`), checked
// against this replica's routing view before anything else (node-identity.ts). A stranger
// holding a viewer's grant cannot start or renew a session, nor use up an account's slots.
//
//   204  the signature is good
//   400  X-Original-URI or X-Geogate-Node missing or malformed (also X-Real-IP when
//        VERIFY_REAL_IP is on): the node is misconfigured, and nginx answers its client 500
//   401  the node key is missing or wrong; the signature is missing, malformed, tampered
//        with, expired or from an unknown key
//   403  the signature is good but for another node, camera, format or client address; an HLS
//        path that leaves its grant's prefix; an HLS session the tariff does not admit; an HLS
//        grant already serving other viewer addresses (GW_GRANT_IN_USE); a viewer whose address
//        (X-Real-IP) is in a country the camera's, account's or tariff's geo rule refuses
//        (GW_GEO_BLOCKED, src/handlers/node/viewer-geo.ts; checked on every request, a warm
//        one from caches alone, before an HLS session is started); an HLS session that was
//        ended by an operator, a revocation or a suspension (GW_SESSION_ENDED)
//   503  (HLS) the store is unreachable when a session starts: nginx answers its client 500

import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { gatewayError } from '../../errors.js'
import { ErrorResponse } from '../../http/schemas.js'
import type { StreamVerifier } from '../../signing/stream-signature.js'
import { formatOfPath } from '../node-paths.js'
import type { HlsSessions } from '../../billing/hls-sessions.js'
import { readHlsPath } from './hls-path.js'
import type { VerifyCaller } from './node-identity.js'
import { readStreamParams, verifyPlaySignature } from './play-signature.js'
import { VerifyHeaders } from './schemas.js'
import type { ViewerGeo } from './viewer-geo.js'

export interface VerifyDeps {
  verifier: StreamVerifier
  signatureParam: string
  /** Take the client's address from X-Real-IP and check it against a signature's cip. */
  verifyRealIp: boolean
  hls: HlsSessions
  /** Whether the caller is the node it names (its key as a bearer). */
  caller: VerifyCaller
  /** The geo rules, checked against X-Real-IP when the node sends it; absent: not checked. */
  viewerGeo?: ViewerGeo
}

export function registerVerifyRoute (app: FastifyInstance, deps: VerifyDeps): void {
  app.get<{ Headers: VerifyHeaders }>('/verify', {
    schema: {
      headers: VerifyHeaders,
      response: { 204: Type.Null(), 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 503: ErrorResponse }
    }
  }, async (request, reply) => {
    deps.caller(request.headers['x-geogate-node'], request.headers.authorization)
    const uri = request.headers['x-original-uri']
    const query = uri.indexOf('?')
    const path = query < 0 ? uri : uri.slice(0, query)
    if (path.startsWith('/hls/')) {
      await verifyHls(deps, path, request.headers)
      return reply.code(204).send()
    }
    const params = new URLSearchParams(query < 0 ? '' : uri.slice(query + 1))
    let clientIp: string | undefined
    if (deps.verifyRealIp) {
      clientIp = request.headers['x-real-ip']
      if (clientIp === undefined) throw gatewayError('GW_BAD_REQUEST', 'X-Real-IP is required: VERIFY_REAL_IP is on')
    }
    const claims = verifyPlaySignature(deps.verifier, {
      node: request.headers['x-geogate-node'],
      clientIp,
      ...readStreamParams(params, deps.signatureParam)
    })
    if (formatOfPath(path) !== claims.fmt) throw gatewayError('GW_FORBIDDEN', `stream signature rejected: it was issued for ${claims.fmt}, not for the path requested`)
    const address = request.headers['x-real-ip']
    const geo = address === undefined ? undefined : deps.viewerGeo?.check(claims, address)
    const refused = geo instanceof Promise ? await geo : geo
    if (refused !== undefined) throw refused
    return reply.code(204).send()
  })
}

async function verifyHls (deps: VerifyDeps, path: string, headers: VerifyHeaders): Promise<void> {
  const address = headers['x-real-ip']
  if (address === undefined) throw gatewayError('GW_BAD_REQUEST', 'X-Real-IP is required for HLS: an HLS session is one viewer address')
  const hls = readHlsPath(path)
  if (hls === undefined) throw gatewayError('GW_FORBIDDEN', 'the HLS path is malformed or leaves its grant\'s prefix')
  const node = headers['x-geogate-node']
  const claims = verifyPlaySignature(deps.verifier, {
    node,
    clientIp: deps.verifyRealIp ? address : undefined,
    signatures: [hls.grant],
    server: hls.server,
    camera: hls.camera
  }, { allowExpired: true })
  if (claims.fmt !== 'hls') throw gatewayError('GW_FORBIDDEN', `stream signature rejected: it was issued for ${claims.fmt}, not for the path requested`)
  // Before the session: a viewer the rule refuses starts nothing, and a live one is stopped.
  const geo = deps.viewerGeo?.check(claims, address)
  const refused = geo instanceof Promise ? await geo : geo
  if (refused !== undefined) throw refused
  const verdict = await deps.hls.check(claims, { node, address })
  if (!verdict.allowed) throw verdict.error
}
