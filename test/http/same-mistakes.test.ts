// The three apps answer the same mistake alike: one error plugin renders every failure with a
// code from the registry (src/errors.ts), whichever process made it.

import type { FastifyInstance, InjectOptions } from 'fastify'
import t from 'tap'
import { authServerApp, AUTH_SERVER_BODY_LIMIT } from '../../src/auth-server/app.js'
import { loadConfig } from '../../src/config.js'
import { errorRegistry } from '../../src/errors.js'
import { createGateway } from '../../src/gateway.js'
import { resolverApp } from '../../src/resolver/app.js'
import { buildApp } from '../../src/server.js'
import { cityFixture } from '../fixtures/mmdb/paths.js'
import { parseServiceKeys } from '../../src/signing/service-request.js'
import { TEST_SERVICE_KEYS } from '../helpers/processes.js'
import { TEST_SIGNING_KEYS } from '../helpers/system.js'
import { startTestStore } from '../helpers/store.js'

const store = await startTestStore(t)
// Nothing here reaches an upstream: closed ports do.
const gateway = await createGateway({
  config: loadConfig({}, { signingKeys: TEST_SIGNING_KEYS, serviceKeys: parseServiceKeys(TEST_SERVICE_KEYS), logLevel: 'silent', resolverUrl: 'http://127.0.0.1:9', authServerUrl: 'http://127.0.0.1:9' }),
  store,
  defaultMetrics: false
})
t.teardown(() => gateway.close())
const resolver = await buildApp(resolverApp, { cityDatabasePath: cityFixture, watch: false, signedCalls: false }, { bodyLimit: 1024 })
t.teardown(() => resolver.close())
const authServer = await buildApp(authServerApp, { tokens: store.collections.tokens, signedCalls: false }, { bodyLimit: AUTH_SERVER_BODY_LIMIT })
t.teardown(() => authServer.close())

/** Each app with the route of it that takes a JSON body. */
const apps: Array<{ name: string, app: FastifyInstance, bodyRoute: string }> = [
  { name: 'gateway', app: gateway.app, bodyRoute: '/api/v1/nodes/node-moscow-1/heartbeat' },
  { name: 'resolver', app: resolver, bodyRoute: '/resolve' },
  { name: 'auth-server', app: authServer, bodyRoute: '/authorize' }
]

const mistakes: Array<{ what: string, status: number, code: string, message?: RegExp, send: (bodyRoute: string) => InjectOptions }> = [
  { what: 'an unknown route', status: 404, code: 'GW_NOT_FOUND', send: () => ({ method: 'GET', url: '/no/such/route' }) },
  { what: 'a wrong method', status: 404, code: 'GW_NOT_FOUND', send: (route) => ({ method: 'PATCH', url: route, payload: {} }) },
  {
    what: 'a wrong content type',
    status: 415,
    code: 'GW_UNSUPPORTED_MEDIA_TYPE',
    send: (route) => ({ method: 'POST', url: route, headers: { 'content-type': 'text/xml' }, payload: '<ip>1.2.3.4</ip>' })
  },
  {
    what: 'malformed JSON',
    status: 400,
    code: 'GW_BAD_REQUEST',
    send: (route) => ({ method: 'POST', url: route, headers: { 'content-type': 'application/json' }, payload: '{"ip": ' })
  },
  {
    // Deep enough to be refused, short enough for the resolver's 1 KiB.
    what: 'a body nested 400 deep',
    status: 400,
    code: 'GW_BAD_REQUEST',
    // Refused by the parser, before any schema could object to the array.
    message: /nests deeper than 32 levels/,
    send: (route) => ({ method: 'POST', url: route, headers: { 'content-type': 'application/json' }, payload: `{"ip":${'['.repeat(400)}"xxxxxxxx"${']'.repeat(400)}}` })
  },
  {
    what: 'an over-long body',
    status: 413,
    code: 'GW_BODY_TOO_LARGE',
    send: (route) => ({ method: 'POST', url: route, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ ip: 'x'.repeat(2 * 1024 * 1024) }) })
  }
]

for (const mistake of mistakes) {
  t.test(`${mistake.what}: ${mistake.status} ${mistake.code} from every app`, async (t) => {
    t.equal(errorRegistry[mistake.code as keyof typeof errorRegistry]?.status, mistake.status, 'the code is in the registry with that status')
    for (const { name, app, bodyRoute } of apps) {
      const res = await app.inject(mistake.send(bodyRoute))
      t.equal(res.statusCode, mistake.status, `${name}: status`)
      const body = res.json()
      t.equal(body.error?.code, mistake.code, `${name}: code`)
      t.type(body.error?.message, 'string', `${name}: a message`)
      if (mistake.message !== undefined) t.match(body.error?.message, mistake.message, `${name}: the message`)
      t.notMatch(res.body, 'xxxxxxxx', `${name}: the body is not echoed`)
    }
  })
}
