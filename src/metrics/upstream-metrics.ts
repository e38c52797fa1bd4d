// Calls to the upstream services, counted from undici's diagnostics channels: every request
// any undici client of this process sends to the resolver's or the auth-server's origin is
// seen, whichever client sends it and however it is built, without a hook in each client. A
// call fails when it gets no answer (timeout, refused or broken connection) or a 5xx; a 4xx is
// an answer (no location, a refused token). Several gateways in one process (tests) each
// count the calls of all of them to the same origin.

import diagnostics from 'node:diagnostics_channel'
import type { GatewayMetrics, UpstreamName } from './gateway-metrics.js'

interface UndiciRequest { origin?: unknown }
interface CreateMessage { request: UndiciRequest }
interface HeadersMessage { request: UndiciRequest, response: { statusCode: number } }

/** Counts calls to each upstream's origin into metrics until the returned function is called. */
export function countUpstreamCalls (metrics: Pick<GatewayMetrics, 'upstreamCall' | 'upstreamError'>, origins: Record<UpstreamName, string>): () => void {
  const byOrigin = new Map<string, UpstreamName>()
  for (const [upstream, url] of Object.entries(origins) as Array<[UpstreamName, string]>) byOrigin.set(new URL(url).origin, upstream)
  const upstreamOf = (request: UndiciRequest): UpstreamName | undefined => {
    const origin = request.origin
    return byOrigin.get(typeof origin === 'string' ? origin : String(origin))
  }
  const onCreate = (message: unknown): void => {
    const upstream = upstreamOf((message as CreateMessage).request)
    if (upstream !== undefined) metrics.upstreamCall(upstream)
  }
  const onHeaders = (message: unknown): void => {
    const { request, response } = message as HeadersMessage
    if (response.statusCode < 500) return
    const upstream = upstreamOf(request)
    if (upstream !== undefined) metrics.upstreamError(upstream)
  }
  const onError = (message: unknown): void => {
    const upstream = upstreamOf((message as CreateMessage).request)
    if (upstream !== undefined) metrics.upstreamError(upstream)
  }
  diagnostics.subscribe('undici:request:create', onCreate)
  diagnostics.subscribe('undici:request:headers', onHeaders)
  diagnostics.subscribe('undici:request:error', onError)
  return () => {
    diagnostics.unsubscribe('undici:request:create', onCreate)
    diagnostics.unsubscribe('undici:request:headers', onHeaders)
    diagnostics.unsubscribe('undici:request:error', onError)
  }
}
