// What the gateway records of each stream answer: metrics (the request by route, status and
// code, its duration, and where it was sent) and, when sampled, a decision-log line; and of
// each HLS steering manifest, what its player reported (its pathway and throughput). Answers
// come from the stream routes (answered), errors from the error plugin (failed).

import type { FastifyRequest } from 'fastify'
import type { RenderedError } from '../../http/error-plugin.js'
import type { DecisionLog } from '../../metrics/decision-log.js'
import type { GatewayMetrics } from '../../metrics/gateway-metrics.js'
import type { SteeringFeedback } from './steering-routes.js'
import type { StreamAnswer, StreamRequestInput } from './stream-request.js'

export interface StreamObserver {
  answered: (path: string, status: number, answer: StreamAnswer, input: StreamRequestInput, startedAt: number) => void
  failed: (request: FastifyRequest, path: string, rendered: RenderedError) => void
  /** A steering manifest answered: what the player reported, what it was told. */
  steered: (feedback: SteeringFeedback) => void
}

export interface StreamObserverOptions {
  metrics: Pick<GatewayMetrics, 'requestAnswered' | 'redirected' | 'steeringManifest'>
  decisionLog: DecisionLog
}

/** The stream schema's shape of a server or camera id: anything else is not repeated in the log. */
const IDENTIFIER = /^[A-Za-z0-9._:-]{1,64}$/
const FORMATS = new Set(['flv', 'hls', 'ws-fmp4'])

function identifier (value: unknown): string | null {
  return typeof value === 'string' && IDENTIFIER.test(value) ? value : null
}

export function createStreamObserver (options: StreamObserverOptions): StreamObserver {
  const { metrics, decisionLog } = options
  return {
    answered (path, status, answer, input, startedAt) {
      const ms = performance.now() - startedAt
      metrics.requestAnswered(path, status, undefined, ms / 1000)
      metrics.redirected(answer.node.id, answer.group, answer.partner)
      if (!decisionLog.sampled()) return
      decisionLog.write({
        client: input.clientIp,
        country: answer.country,
        group: answer.group,
        rule: answer.rule,
        node: answer.node.id,
        owner: answer.owner,
        server: input.server,
        camera: input.camera,
        format: input.format,
        status,
        code: null,
        ms
      })
    },
    failed (request, path, rendered) {
      const startedAt = request.streamStartedAt
      // A request the schema refused never reached the handler: it took no time worth telling.
      const ms = startedAt > 0 ? performance.now() - startedAt : 0
      metrics.requestAnswered(path, rendered.status, rendered.code, ms / 1000)
      if (!decisionLog.sampled()) return
      const query = (request.query ?? {}) as Record<string, unknown>
      const format = path === '/stream' ? query.format : path.slice(1)
      decisionLog.write({
        client: request.clientAddress,
        country: null,
        group: null,
        rule: null,
        node: null,
        owner: null,
        server: identifier(query.server),
        camera: identifier(query.camera),
        format: typeof format === 'string' && FORMATS.has(format) ? format : null,
        status: rendered.status,
        code: rendered.code,
        ms
      })
    },
    steered (feedback) {
      metrics.steeringManifest(feedback.pathway, feedback.pathway !== null && feedback.pathway !== feedback.first, feedback.throughput)
      if (!decisionLog.sampled()) return
      decisionLog.write({
        client: feedback.client,
        country: null,
        group: null,
        rule: null,
        node: feedback.first,
        owner: feedback.owner,
        server: feedback.server,
        camera: feedback.camera,
        format: 'hls',
        status: 200,
        code: null,
        ms: feedback.ms,
        steering: { pathway: feedback.pathway, throughput: feedback.throughput }
      })
    }
  }
}
