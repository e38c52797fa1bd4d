// /resolve → where an address is: 200 with the location, 400 for a malformed address, 404 for
// one with no data (private ranges, unknown networks). The address comes as `?ip=` on a GET,
// or as {"ip": …} in a POSTed JSON body. POST /resolve/batch {"ips": […]} answers up to
// RESOLVE_BATCH_MAX addresses in one call, each a location or null (no data, or not an
// address): what a gateway sends when several new clients come at once. GET /healthz.

import type { FastifyPluginAsync } from 'fastify'
import { gatewayError } from '../errors.js'
import { ipVersion } from '../geo/cidr.js'
import { ErrorResponse, HealthAnswer } from '../http/schemas.js'
import type { Answers } from './answers.js'
import type { ResolverMetrics } from './metrics.js'
import { RESOLVE_BATCH_BODY_LIMIT, ResolveAnswer, ResolveBatchAnswer, ResolveBatchBody, ResolveQuery, type ResolveAnswerBody, type ResolveBatchAnswerBody } from './schemas.js'

export interface ResolveRoutesOptions {
  answers: Answers
  metrics: ResolverMetrics
}

export const resolveRoutes: FastifyPluginAsync<ResolveRoutesOptions> = async (app, { answers, metrics }) => {
  /** The location of an address, or null for none, counted. */
  async function lookup (ip: string): Promise<ResolveAnswerBody | null> {
    const answer = await answers.get(ip)
    metrics.lookup(answer === null ? 'not_found' : 'found')
    return answer
  }
  async function resolve (ip: string): Promise<ResolveAnswerBody> {
    if (ipVersion(ip) === 0) throw gatewayError('GW_BAD_REQUEST', 'ip must be an IPv4 or IPv6 address')
    const answer = await lookup(ip)
    if (answer === null) throw gatewayError('GW_NOT_FOUND', 'no location data for this address')
    return answer
  }
  /** In a batch, an address with no location and one that is not an address both answer null. */
  async function resolveOrNull (ip: string): Promise<ResolveAnswerBody | null> {
    return ipVersion(ip) === 0 ? null : await lookup(ip)
  }
  const response = { 200: ResolveAnswer, 400: ErrorResponse, 404: ErrorResponse, 500: ErrorResponse }

  app.get<{ Querystring: ResolveQuery }>('/resolve', { schema: { querystring: ResolveQuery, response } }, async (request) => await resolve(request.query.ip))
  app.post<{ Body: ResolveQuery }>('/resolve', { schema: { body: ResolveQuery, response } }, async (request) => await resolve(request.body.ip))
  app.post<{ Body: ResolveBatchBody }>('/resolve/batch', {
    bodyLimit: RESOLVE_BATCH_BODY_LIMIT,
    schema: { body: ResolveBatchBody, response: { 200: ResolveBatchAnswer, 400: ErrorResponse, 500: ErrorResponse } }
  }, async (request): Promise<ResolveBatchAnswerBody> => ({ answers: await Promise.all(request.body.ips.map(resolveOrNull)) }))
  app.get('/healthz', { schema: { response: { 200: HealthAnswer } } }, async () => ({ status: 'ok' as const }))
}
