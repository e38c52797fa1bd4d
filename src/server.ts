// Starting and stopping processes: listen with sane timeouts, close gracefully on a signal.

import type { FastifyInstance } from 'fastify'

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
