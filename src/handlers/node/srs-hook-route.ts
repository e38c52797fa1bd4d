// POST /hooks/srs: SRS `http_hooks` for on_play and on_stop. SRS lets a play through only on
// HTTP 200 with `{"code": 0}`; geogate denies a play with HTTP 200 and the status its error
// would have as the code (401, 402, 403, 429), naming the error. A request that is malformed,
// from an unknown node, or met with a store failure gets that HTTP status, which SRS also
// takes as a denial.
//
//   http_hooks { enabled on; on_play http://GATEWAY/hooks/srs?node=ID&key=KEY;
//                on_stop http://GATEWAY/hooks/srs?node=ID&key=KEY; }

import type { FastifyInstance } from 'fastify'
import { ErrorResponse } from '../../http/schemas.js'
import type { Collections } from '../../store/mongo.js'
import { authenticateNode, nodeKeyOf } from './node-identity.js'
import { decidePlay, endPlay, type PlayDeps } from './play-decision.js'
import { playPathFormats, readStreamParams } from './play-signature.js'
import { HookQuery, SrsHookBody, SrsHookReply } from './schemas.js'

export interface SrsHookDeps extends PlayDeps {
  nodes: Collections['nodes']
  signatureParam: string
}

export function registerSrsHookRoute (app: FastifyInstance, deps: SrsHookDeps): void {
  app.post<{ Querystring: HookQuery, Body: SrsHookBody }>('/hooks/srs', {
    schema: {
      querystring: HookQuery,
      body: SrsHookBody,
      response: { 200: SrsHookReply, 400: ErrorResponse, 401: ErrorResponse, 503: ErrorResponse }
    }
  }, async (request) => {
    const node = await authenticateNode(deps.nodes, request.query.node, nodeKeyOf(request, request.query.key))
    const body = request.body
    const clientId = String(body.client_id)
    if (body.action === 'on_stop') {
      await endPlay(deps, node, clientId)
      return { code: 0 }
    }
    const decision = await decidePlay(deps, {
      node,
      clientId,
      clientIp: body.ip,
      streamName: body.stream,
      formats: playPathFormats(request.query.formats),
      params: readStreamParams(new URLSearchParams(body.param), deps.signatureParam)
    })
    if (decision.allowed) return { code: 0 }
    const { error } = decision
    request.log.info({ node: node.id, code: error.code }, 'play denied')
    return { code: error.statusCode, error: { code: error.code, message: error.message } }
  })
}
