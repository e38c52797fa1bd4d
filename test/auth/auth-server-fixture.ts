// A real auth-server on 127.0.0.1, port 0, over the test's store; closed in teardown.

import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import type { Collection } from 'mongodb'
import type { FastifyInstance } from 'fastify'
import { authServerApp } from '../../src/auth-server/app.js'
import { buildApp } from '../../src/server.js'
import type { TokenDoc } from '../../src/store/documents.js'

export interface RunningAuthServer {
  app: FastifyInstance
  url: string
  /** Requests that reached POST /authorize, POST /introspect or POST /introspect/batch. */
  readonly calls: number
  /** Of those, the ones answered (their response sent). */
  readonly answered: number
  /** Those that reached POST /introspect/batch. */
  readonly batchCalls: number
  /** Tokens those calls asked about (a batch's each counted). */
  readonly tokensAsked: number
}

export async function startAuthServer (
  t: Test,
  options: { tokens: Collection<TokenDoc>, now: () => number, logger?: object, configure?: (app: FastifyInstance) => void }
): Promise<RunningAuthServer> {
  const app = await buildApp(authServerApp, { tokens: options.tokens, signedCalls: false, now: options.now }, { logger: options.logger ?? false })
  let calls = 0
  let batchCalls = 0
  let tokensAsked = 0
  let answered = 0
  app.addHook('onResponse', async (request) => {
    if (request.url === '/authorize' || request.url === '/introspect' || request.url === '/introspect/batch') answered++
  })
  app.addHook('onRequest', async (request) => {
    if (request.url === '/authorize' || request.url === '/introspect') calls++
    if (request.url === '/introspect/batch') {
      calls++
      batchCalls++
    }
  })
  app.addHook('preHandler', async (request) => {
    const body = request.body as { token?: unknown, tokens?: unknown[] } | undefined
    if (request.url === '/introspect/batch') tokensAsked += body?.tokens?.length ?? 0
    else if (request.url === '/authorize' || request.url === '/introspect') tokensAsked++
  })
  options.configure?.(app)
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const { port } = app.server.address() as AddressInfo
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    get calls () { return calls },
    get answered () { return answered },
    get batchCalls () { return batchCalls },
    get tokensAsked () { return tokensAsked }
  }
}
