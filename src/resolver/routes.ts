// GET /resolve?ip= → where ip is: 200 with the location, 400 for a malformed address, 404 for
// one with no data (private ranges, unknown networks). GET /healthz.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { gatewayError } from '../errors.js'
import { ipVersion } from '../geo/cidr.js'
import type { Answers } from './answers.js'
import type { ResolverMetrics } from './metrics.js'
import { ErrorAnswer, HealthAnswer, ResolveAnswer, ResolveQuery } from './schemas.js'

export interface ResolveRoutesOptions {
  answers: Answers
  metrics: ResolverMetrics
}

export const resolveRoutes: FastifyPluginAsyncTypebox<ResolveRoutesOptions> = async (app, { answers, metrics }) => {
  app.get('/resolve', {
    schema: {
      querystring: ResolveQuery,
      response: { 200: ResolveAnswer, 400: ErrorAnswer, 404: ErrorAnswer, 500: ErrorAnswer }
    }
  }, async (request) => {
    const { ip } = request.query
    if (ipVersion(ip) === 0) throw gatewayError('GW_BAD_REQUEST', 'ip must be an IPv4 or IPv6 address')
    const answer = await answers.get(ip)
    if (answer === null) {
      metrics.lookup('not_found')
      throw gatewayError('GW_NOT_FOUND', 'no location data for this address')
    }
    metrics.lookup('found')
    return answer
  })

  app.get('/healthz', { schema: { response: { 200: HealthAnswer } } }, async () => ({ status: 'ok' as const }))
}
