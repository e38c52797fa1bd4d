// The auth-server while its store does not answer: each token lookup ends within
// MONGODB_QUERY_TIMEOUT_MS with 503 GW_DEPENDENCY_DOWN and Retry-After; after a few, the store
// is known to be down and a lookup is not even sent (a gateway asking about a new token gets
// its 503 at once, not after its own timeout); a ping now and then finds the store back, and
// lookups are answered again without a restart.

import type { CommandStartedEvent } from 'mongodb'
import t from 'tap'
import { request } from 'undici'
import { createAuthService } from '../../src/commands/auth-server.js'
import { loadConfig } from '../../src/config.js'
import { seedDemoData } from '../../src/demo/seed.js'
import { createServiceSigner, parseServiceKeys } from '../../src/signing/service-request.js'
import { startEmbeddedStore } from '../../src/store/embedded.js'
import { connectStore, ensureIndexes } from '../../src/store/mongo.js'
import { TEST_SERVICE_KEYS } from '../helpers/processes.js'
import { startStoreProxy } from '../helpers/store-proxy.js'

if (process.env.MONGODB_URL !== undefined && process.env.MONGODB_URL !== '') {
  t.plan(0, 'puts a proxy in front of the embedded store; not run against an external MongoDB')
  process.exit(0)
}

const embedded = await startEmbeddedStore({ database: 'auth_outage' })
t.teardown(() => embedded.stop())
const direct = await connectStore({ url: embedded.url, database: 'auth_outage' })
t.teardown(() => direct.close())
await ensureIndexes(direct.collections)
await seedDemoData(direct.collections)

const target = new URL(embedded.url)
const proxy = await startStoreProxy(t, { host: target.hostname, port: Number(target.port) })
const viaProxy = await connectStore({ url: proxy.url('auth_outage'), database: 'auth_outage', monitorCommands: true })
t.teardown(() => viaProxy.client.close(true))
let tokenFinds = 0
viaProxy.client.on('commandStarted', (event: CommandStartedEvent) => {
  if (event.commandName === 'find' && event.command.find === 'tokens') tokenFinds++
})

const keys = parseServiceKeys(TEST_SERVICE_KEYS)
const config = loadConfig({}, { serviceKeys: keys, serviceNonces: 'memory', logLevel: 'silent', mongodbQueryTimeoutMs: 300 })
const app = await createAuthService(config, viaProxy)
t.teardown(() => app.close())
const base = await app.listen({ host: '127.0.0.1', port: 0 })
const sign = createServiceSigner(keys[0] ?? { id: '', secret: '' })

async function introspect (token: string): Promise<{ status: number, code?: string, retryAfter?: string }> {
  const body = JSON.stringify({ token })
  const answer = await request(`${base}/introspect`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...sign('POST', '/introspect', body) }, headersTimeout: 10_000 })
  const json = await answer.body.json() as { error?: { code?: string } }
  return { status: answer.statusCode, code: json.error?.code, retryAfter: answer.headers['retry-after'] as string | undefined }
}

t.test('a known token is answered while the store answers', async (t) => {
  t.equal((await introspect('demo-viewer-token')).status, 200)
})

t.test('with the store black-holed: 503 with Retry-After, then no lookup sent at all', async (t) => {
  proxy.mode('blackhole')
  for (let i = 0; i < 3; i++) {
    const answer = await introspect(`new-token-${i}`)
    t.equal(answer.status, 503, `lookup ${i + 1} ends at the deadline`)
    t.equal(answer.code, 'GW_DEPENDENCY_DOWN')
    t.ok(answer.retryAfter !== undefined, 'with Retry-After')
  }
  const sent = tokenFinds
  for (let i = 0; i < 20; i++) {
    const answer = await introspect(`newer-token-${i}`)
    t.equal(answer.status, 503)
    t.equal(answer.code, 'GW_DEPENDENCY_DOWN')
  }
  t.equal(tokenFinds, sent, 'the store known down, no lookup was sent for 20 more calls')
})

t.test('the store back: a ping finds it, and tokens are looked up again', async (t) => {
  proxy.mode('pass')
  let answer = await introspect('demo-viewer-token')
  for (let i = 0; i < 100 && answer.status !== 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    answer = await introspect('demo-viewer-token')
  }
  t.equal(answer.status, 200, 'answered again, no restart')
})
