// Log settings shared by every geogate process: JSON lines via pino, with tokens, keys and
// signatures redacted wherever they could appear.

import { LogController, type FastifyServerOptions } from 'fastify'

export const redactedPaths = [
  'req.headers.authorization',
  'req.headers["x-geogate-node-key"]',
  'req.query.access_token',
  'req.query.sig',
  'body.token',
  'token',
  'access_token'
]

export function loggerOptions (level: string): FastifyServerOptions['logger'] {
  if (level === 'silent') return false
  return {
    level,
    redact: { paths: redactedPaths, censor: '[redacted]' },
    serializers: {
      // Query strings carry tokens and signatures: log the path only.
      req: (req: { method: string, url: string, ip?: string }) => ({ method: req.method, path: req.url.split('?')[0], ip: req.ip })
    }
  }
}

/** Per-request access lines cost more than they tell at gateway rates; errors still log. */
export function quietRequestLogs (): LogController {
  return new LogController({ disableRequestLogging: true })
}
