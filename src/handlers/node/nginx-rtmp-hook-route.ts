// POST /hooks/nginx-rtmp: nginx-rtmp's on_play and on_play_done notifications, a form with
// `call`, `name`, `addr`, `clientid`, `app` and the client's own query arguments (`server`,
// `camera`, `sig`) as fields. nginx-rtmp lets a play through on any 2xx; geogate denies with
// 403 and the error in the body. Malformed requests (400), unknown nodes (401) and store
// failures (503) deny too.
//
//   on_play      http://GATEWAY/hooks/nginx-rtmp?node=ID&key=KEY;   (&formats=flv,… : see HookQuery)
//   on_play_done http://GATEWAY/hooks/nginx-rtmp?node=ID&key=KEY;

import type { FastifyInstance } from 'fastify'
import { errorBody } from '../../errors.js'
import { ErrorResponse } from '../../http/schemas.js'
import { authenticateNode, nodeKeyOf } from './node-identity.js'
import { decidePlay, endPlay } from './play-decision.js'
import { playPathFormats } from './play-signature.js'
import { HookQuery, nginxRtmpHookBody, SrsHookReply, type NginxRtmpHookBody } from './schemas.js'
import type { SrsHookDeps } from './srs-hook-route.js'

export type NginxRtmpHookDeps = SrsHookDeps

export function registerNginxRtmpHookRoute (app: FastifyInstance, deps: NginxRtmpHookDeps): void {
  app.post<{ Querystring: HookQuery, Body: NginxRtmpHookBody }>('/hooks/nginx-rtmp', {
    schema: {
      querystring: HookQuery,
      body: nginxRtmpHookBody(deps.signatureParam),
      response: { 200: SrsHookReply, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 503: ErrorResponse }
    }
  }, async (request, reply) => {
    const node = await authenticateNode(deps.nodes, request.query.node, nodeKeyOf(request, request.query.key))
    const body = request.body
    if (body.call === 'play_done') {
      await endPlay(deps, node, body.clientid)
      return { code: 0 }
    }
    const signature = body[deps.signatureParam]
    const decision = await decidePlay(deps, {
      node,
      clientId: body.clientid,
      clientIp: body.addr,
      streamName: body.name,
      formats: playPathFormats(request.query.formats),
      params: { signatures: typeof signature === 'string' ? [signature] : [], server: body.server, camera: body.camera }
    })
    if (decision.allowed) return { code: 0 }
    const { error } = decision
    request.log.info({ node: node.id, code: error.code }, 'play denied')
    return reply.code(403).send(errorBody(error.code, error.message))
  })
}
