// Processes: the one way every geogate app gets its Fastify instance, listens with sane
// timeouts, and closes gracefully on a signal. The apps themselves are plugins (src/app.ts,
// src/resolver/app.ts, src/auth-server/app.ts); tests build them with buildApp, as processes do.

import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyPluginOptions } from 'fastify'
import { loggerOptions, quietRequestLogs, type LogSetting } from './logging.js'

export interface ServerOptions {
  /** Off by default. */
  logger?: LogSetting
  /** The largest request body accepted (bytes); default 64 KiB. */
  bodyLimit?: number
}

/** A Fastify instance with the settings every geogate app shares. */
export function createServer (options: ServerOptions = {}): FastifyInstance {
  const app = Fastify({
    logger: loggerOptions(options.logger ?? false),
    logController: quietRequestLogs(),
    // The socket address is the client; X-Forwarded-For is read only from trusted proxies.
    trustProxy: false,
    bodyLimit: options.bodyLimit ?? 64 * 1024
  })
  // TypeBox's checker rejects what a schema does not allow and never coerces types, unlike
  // Fastify's default Ajv setup, which strips extra properties and coerces values.
  app.setValidatorCompiler(TypeBoxValidatorCompiler)
  return app
}

/** An app plugin on its own server: what a process runs and what a test builds. */
export async function buildApp<Options extends FastifyPluginOptions> (
  plugin: FastifyPluginAsync<Options>, options: Options, server: ServerOptions = {}
): Promise<FastifyInstance> {
  const app = createServer(server)
  await app.register(plugin, options)
  return app
}

export async function listen (app: FastifyInstance, host: string, port: number): Promise<string> {
  app.server.keepAliveTimeout = 65_000
  app.server.headersTimeout = 66_000
  app.server.requestTimeout = 30_000
  return await app.listen({ host, port })
}

export type Closer = () => Promise<void>

/**
 * Runs closers (last opened first) on SIGINT/SIGTERM, then exits. A second signal, or closers
 * that take longer than graceMs, end the process at once.
 */
export function closeOnSignal (closers: Closer[], log: (msg: string) => void, graceMs = 10_000): void {
  let closing = false
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) process.exit(1)
    closing = true
    log(`${signal}: shutting down`)
    const force = setTimeout(() => { log('shutdown took too long; exiting'); process.exit(1) }, graceMs)
    force.unref()
    void (async () => {
      for (const close of [...closers].reverse()) {
        try { await close() } catch (err) { log(`while closing: ${(err as Error).message}`) }
      }
      process.exit(0)
    })()
  }
  process.once('SIGINT', shutdown)
  process.once('SIGTERM', shutdown)
}
