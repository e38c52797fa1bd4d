// A real geo-resolver on 127.0.0.1, port 0, over the fixture City database; closed in teardown.
// It counts the /resolve and /resolve/batch requests that reach it and can be told to fail them
// with a 503.

import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { type LocationLookup, openCityDatabase } from '../../src/geo/maxmind-lookup.js'
import { resolverApp } from '../../src/resolver/app.js'
import { buildApp } from '../../src/server.js'
import { cityFixture } from '../fixtures/mmdb/paths.js'

export interface RunningResolver {
  app: FastifyInstance
  url: string
  /** Requests that reached GET /resolve. */
  readonly resolveCalls: number
  /** Requests that reached POST /resolve/batch, and the addresses they asked about. */
  readonly batchCalls: number
  readonly batchIps: number
  /** While true, /resolve answers 503 (still counted). */
  failing: boolean
}

export async function startResolver (t: Test, options: { city?: LocationLookup } = {}): Promise<RunningResolver> {
  let city = options.city
  if (city === undefined) {
    const opened = await openCityDatabase(cityFixture)
    t.teardown(() => opened.close())
    city = opened
  }
  const app = await buildApp(resolverApp, { databases: { city }, signedCalls: false })
  const running = {
    app,
    url: '',
    resolveCalls: 0,
    batchCalls: 0,
    batchIps: 0,
    failing: false
  }
  app.addHook('onRequest', async (request, reply) => {
    if (request.url === '/resolve/batch') running.batchCalls++
    else if (request.url.startsWith('/resolve?')) running.resolveCalls++
    else return
    if (running.failing) {
      return await reply.code(503).send({ error: { code: 'GW_DEPENDENCY_DOWN', message: 'failing on purpose' } })
    }
  })
  app.addHook('preHandler', async (request) => {
    if (request.url === '/resolve/batch') running.batchIps += (request.body as { ips: string[] }).ips.length
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  running.url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  return running
}
