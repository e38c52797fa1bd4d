// /resolve → where an address is: 200 with the location, 400 for a malformed address, 404 for
// one with no data (private ranges, unknown networks). The address comes as `?ip=` on a GET,
// or as {"ip": …} in a POSTed JSON body. GET /healthz.

import type { FastifyPluginAsync } from 'fastify'
import { gatewayError } from '../errors.js'
import { ipVersion } from '../geo/cidr.js'
import { ErrorResponse, HealthAnswer } from '../http/schemas.js'
import type { Answers } from './answers.js'
import type { ResolverMetrics } from './metrics.js'
import { ResolveAnswer, ResolveQuery, type ResolveAnswerBody } from './schemas.js'

export interface ResolveRoutesOptions {
  answers: Answers
  metrics: ResolverMetrics
}

export const resolveRoutes: FastifyPluginAsync<ResolveRoutesOptions> = async (app, { answers, metrics }) => {
  async function resolve (ip: string): Promise<ResolveAnswerBody> {
    if (ipVersion(ip) === 0) throw gatewayError('GW_BAD_REQUEST', 'ip must be an IPv4 or IPv6 address')
    const answer = await answers.get(ip)
    if (answer === null) {
      metrics.lookup('not_found')
      throw gatewayError('GW_NOT_FOUND', 'no location data for this address')
    }
    metrics.lookup('found')
    return answer
  }
  const response = { 200: ResolveAnswer, 400: ErrorResponse, 404: ErrorResponse, 500: ErrorResponse }

  app.get<{ Querystring: ResolveQuery }>('/resolve', { schema: { querystring: ResolveQuery, response } }, async (request) => await resolve(request.query.ip))
  app.post<{ Body: ResolveQuery }>('/resolve', { schema: { body: ResolveQuery, response } }, async (request) => await resolve(request.body.ip))
  app.get('/healthz', { schema: { response: { 200: HealthAnswer } } }, async () => ({ status: 'ok' as const }))
}
