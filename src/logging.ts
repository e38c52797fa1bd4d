// Log settings shared by every geogate process: JSON lines via pino, with tokens, keys and
// signatures redacted wherever they could appear.

import { LogController, type FastifyServerOptions } from 'fastify'

export const redactedPaths = [
  'req.headers.authorization',
  'req.headers["x-geogate-node-key"]',
  'req.query.access_token',
  'req.query.sig',
  'req.body.token',
  'headers.authorization',
  'body.token',
  'token',
  'access_token'
]

/** What a process says about logging: off, pino's defaults, a level, or pino options. */
export type LogSetting = boolean | string | object

/** Fastify's logger option for a setting, always with the redactions above. */
export function loggerOptions (setting: LogSetting): FastifyServerOptions['logger'] {
  if (setting === false || setting === 'silent') return false
  const given: Record<string, unknown> = setting === true ? {} : typeof setting === 'string' ? { level: setting } : { ...setting }
  const redact = given.redact as string[] | { paths: string[] } | undefined
  const extra = Array.isArray(redact) ? redact : (redact?.paths ?? [])
  return {
    ...given,
    redact: { paths: [...new Set([...redactedPaths, ...extra])], censor: '[redacted]' },
    serializers: {
      // Query strings carry tokens and signatures: log the path only. The address is the
      // client's as the gateway resolved it (src/http/client-address.ts), where the app knows
      // its trusted proxies; else the peer's.
      req: (req: { method: string, url: string, ip?: string, clientAddress?: string }) => ({ method: req.method, path: req.url.split('?')[0], ip: req.clientAddress ?? req.ip })
    }
  } as FastifyServerOptions['logger']
}

/** Per-request access lines cost more than they tell at gateway rates; errors still log. */
export function quietRequestLogs (): LogController {
  return new LogController({ disableRequestLogging: true })
}
