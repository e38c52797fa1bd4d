// /metrics on a listener of its own (METRICS_HOST, METRICS_PORT), so that the port clients and
// other services reach does not show a process's internals, and a scraper (which cannot sign)
// reaches it on an address only it can. The app keeps its /metrics route; the listener hands
// its requests to the app's router, and the app's own port answers that path 404.

import http, { type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { MetricsPort } from '../config.js'
import { errorBody } from '../errors.js'
import { listen } from '../server.js'

export interface MetricsPlacement {
  host: string
  port: MetricsPort
}

export interface Listening {
  url: string
  /** Where /metrics is served; the same as url when it stays on the main port. */
  metricsUrl: string
}

/** The port of the separate listener, or undefined when /metrics stays on the main one. */
export function metricsPortFor (placement: MetricsPort, mainPort: number): number | undefined {
  if (placement === 'main') return undefined
  if (placement !== undefined) return placement
  return mainPort === 0 ? 0 : mainPort + 1000
}

/** Listens like server.listen, with /metrics where placement says; call before the app is ready. */
export async function listenWithMetrics (app: FastifyInstance, host: string, port: number, placement: MetricsPlacement): Promise<Listening> {
  const metricsPort = metricsPortFor(placement.port, port)
  if (metricsPort === undefined) {
    const url = await listen(app, host, port)
    return { url, metricsUrl: `${url}/metrics` }
  }
  const fromListener = new WeakSet<IncomingMessage>()
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.url === '/metrics' && !fromListener.has(request.raw)) {
      reply.callNotFound()
      return await reply
    }
  })
  const server = http.createServer((req, res) => {
    if ((req.url ?? '').split('?')[0] !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' })
      res.end(JSON.stringify(errorBody('GW_NOT_FOUND', 'this listener serves GET /metrics only')))
      return
    }
    fromListener.add(req)
    app.routing(req, res)
  })
  server.keepAliveTimeout = 65_000
  server.requestTimeout = 30_000
  app.addHook('onClose', async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  })
  const url = await listen(app, host, port)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(metricsPort, placement.host, () => { server.off('error', reject); resolve() })
  })
  const address = server.address() as AddressInfo
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return { url, metricsUrl: `http://${shown}:${address.port}/metrics` }
}
