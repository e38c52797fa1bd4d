// Processes: the one way every geogate app gets its Fastify instance, listens with sane
// timeouts, and closes gracefully on a signal. The apps themselves are plugins (src/app.ts,
// src/resolver/app.ts, src/auth-server/app.ts); tests build them with buildApp, as processes do.

import net from 'node:net'
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyPluginOptions } from 'fastify'
import { sharedSerializerCompiler } from './http/serializer.js'
import { checkFirstValidatorCompiler } from './http/validator.js'
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
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    // A request that reached an accepted connection as the server closes is served, not
    // refused with a 503: a drain ends only the connections no one is using.
    return503OnClosing: false
  })
  // TypeBox's checker rejects what a schema does not allow and never strips properties, unlike
  // Fastify's default Ajv setup; only text in a query, path or header is converted to the
  // schema's type, and only when it does not already fit.
  app.setValidatorCompiler(checkFirstValidatorCompiler)
  app.setSerializerCompiler(sharedSerializerCompiler)
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

/**
 * A port geogate cannot listen on, said in one line that names the setting to change: the
 * command line prints its message alone, with no stack.
 */
export class PortError extends Error {
  readonly setting: string
  constructor (message: string, setting: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'PortError'
    this.setting = setting
  }
}

/**
 * What a failed listen means to the person who set the port: a PortError when the port is in
 * use or needs privileges and `setting` names it, else the error as it was.
 */
export function portErrorOf (err: unknown, settings: Array<[setting: string, port: number | undefined]>): unknown {
  const failed = err as NodeJS.ErrnoException & { port?: number }
  if (failed?.syscall !== 'listen' || (failed.code !== 'EADDRINUSE' && failed.code !== 'EACCES')) return err
  const setting = settings.find(([, port]) => port !== undefined && port !== 0 && port === failed.port)?.[0]
  if (setting === undefined) return err
  const message = failed.code === 'EADDRINUSE'
    ? `port ${failed.port} is in use (${setting}): choose another port or stop what holds it`
    : `port ${failed.port} needs privileges this process does not have (${setting}): choose a port above 1023`
  return new PortError(message, setting, { cause: err })
}

/** Listens with the timeouts every geogate server shares; `setting` names the port in errors. */
export async function listen (app: FastifyInstance, host: string, port: number, setting?: string): Promise<string> {
  app.server.keepAliveTimeout = 65_000
  app.server.headersTimeout = 66_000
  app.server.requestTimeout = 30_000
  try {
    return await app.listen({ host, port })
  } catch (err) {
    throw setting === undefined ? err : portErrorOf(err, [[setting, port]])
  }
}

export type Closer = () => Promise<void>

/**
 * From now on every answer closes its connection: a shutdown has begun, and keep-alive clients
 * should open their next connection elsewhere rather than reuse this one until it is cut.
 */
export function closeConnectionsAfterEachAnswer (app: FastifyInstance): void {
  // First among the listeners, so the header is set before any route can answer.
  app.server.prependListener('request', (_request, response) => {
    if (!response.headersSent) response.setHeader('connection', 'close')
  })
}

/**
 * The end of a drain: stops accepting connections, then gives those accepted just before a
 * little time to send their request (served, and answered with Connection: close) before the
 * app's close ends every idle connection. An http server's own close ends idle connections at
 * once, including one whose request is already on its way: its client would see a reset.
 */
export async function stopAccepting (app: FastifyInstance, settleMs = 250): Promise<void> {
  if (!app.server.listening) return
  await new Promise<void>((resolve) => {
    net.Server.prototype.close.call(app.server, () => resolve())
    setTimeout(resolve, settleMs).unref()
  })
  await new Promise((resolve) => setTimeout(resolve, settleMs))
}

export interface Drain {
  /** Called at once on the signal (readiness turns 503, answers close their connections). */
  begin: () => void
  /** How long (ms) the process keeps accepting connections after begin, before closing. */
  graceMs: number
}

/**
 * Runs closers (last opened first) on SIGINT/SIGTERM, then exits 0. With a drain, it first
 * begins the drain and keeps serving for its grace period, so load balancers see /readyz fail
 * and move traffic away before the port closes. A second signal, or a shutdown that takes
 * longer than the grace period and then graceMs, ends the process at once.
 */
export function closeOnSignal (closers: Closer[], log: (msg: string) => void, graceMs = 10_000, drain?: Drain): void {
  let closing = false
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) process.exit(1)
    closing = true
    log(`${signal}: shutting down`)
    const force = setTimeout(() => { log('shutdown took too long; exiting'); process.exit(1) }, graceMs + (drain?.graceMs ?? 0))
    force.unref()
    void (async () => {
      if (drain !== undefined) {
        drain.begin()
        log(`draining for ${drain.graceMs} ms`)
        await new Promise((resolve) => setTimeout(resolve, drain.graceMs))
      }
      for (const close of [...closers].reverse()) {
        try { await close() } catch (err) { log(`while closing: ${(err as Error).message}`) }
      }
      process.exit(0)
    })()
  }
  process.once('SIGINT', shutdown)
  process.once('SIGTERM', shutdown)
}
