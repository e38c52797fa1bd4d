// The resolver and the auth-server as `geogate resolver` and `geogate auth-server` build them
// (their body limits, their signature checks) answer the largest batches the gateway's clients
// send: every address and token of a burst answered by one signed call, none left to a fallback.

import t from 'tap'
import { createAuthClient } from '../../src/auth/auth-client.js'
import { createToken } from '../../src/auth/token-admin.js'
import { createAuthService } from '../../src/commands/auth-server.js'
import { createResolverService } from '../../src/commands/resolver.js'
import { loadConfig } from '../../src/config.js'
import { openCityDatabase } from '../../src/geo/maxmind-lookup.js'
import { createGeoLocator } from '../../src/geo/resolver-client.js'
import { createServiceSigner, formatServiceKeys, type ServiceKey } from '../../src/signing/service-request.js'
import { cityFixture, cityV2Fixture } from '../fixtures/mmdb/paths.js'
import { startTestStore } from '../helpers/store.js'

const key: ServiceKey = { id: 'gw', secret: 'batch-test-secret-0123456789abcdef0123' }
const config = loadConfig({ SERVICE_KEYS: formatServiceKeys([key]), LOG_LEVEL: 'silent', MAXMIND_CITY_DB: cityFixture, SERVICE_NONCES: 'memory' })
const sign = createServiceSigner(key)

t.test('geogate resolver answers batches of the longest addresses, signed', async (t) => {
  const resolver = await createResolverService(config)
  t.teardown(() => resolver.close())
  let batches = 0
  resolver.addHook('onResponse', async (request, reply) => { if (request.url === '/resolve/batch' && reply.statusCode === 200) batches++ })
  const url = await resolver.listen({ host: '127.0.0.1', port: 0 })
  const fallback = await openCityDatabase(cityV2Fixture)
  t.teardown(() => fallback.close())
  const locator = createGeoLocator({ resolverUrl: url, timeoutMs: 5000, cacheMax: 1000, cacheTtlMs: 60_000, breaker: { failureThreshold: 1, cooldownMs: 60_000 }, fallback, sign })
  t.teardown(() => locator.close())
  // 45 characters each, the longest text form of an address.
  const ips = Array.from({ length: 128 }, (_, i) => `0000:0000:0000:0000:0000:ffff:77.88.8.${String(i).padStart(3, '0')}`.slice(0, 45).replace(/\.0+(\d)/g, '.$1'))
  const answers = await Promise.all(ips.map((ip) => locator.locate(ip)))
  t.same([...new Set(answers.map((a) => a.source))], ['resolver'], 'none fell back')
  t.equal(batches, 2)
  t.equal(locator.breakerState, 'closed')
})

t.test('geogate auth-server answers batches of the longest tokens, signed', async (t) => {
  const store = await startTestStore(t)
  const viewer = await createToken(store.collections.tokens, {
    owner_type: 'account', owner_id: 'acct-demo', grants: [{ object_type: 'camera', object_id: 'UIN-DEMO-1/*', rights: ['view'] }]
  })
  const app = await createAuthService(config, store)
  t.teardown(() => app.close())
  let batches = 0
  app.addHook('onResponse', async (request, reply) => { if (request.url === '/introspect/batch' && reply.statusCode === 200) batches++ })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const auth = createAuthClient({ url, cacheMax: 1000, timeoutMs: 5000, sign })
  t.teardown(() => auth.close())
  const camera = { rights: 'view', object_type: 'camera', object_id: 'UIN-DEMO-1/cam-1' }
  const asked = [viewer.token, ...Array.from({ length: 63 }, (_, i) => `${i}-`.padEnd(4096, '\u0001'))]
  const answers = await Promise.allSettled(asked.map((token) => auth.authorize(token, camera)))
  t.equal(answers[0]?.status === 'fulfilled' && answers[0].value.owner_id, 'acct-demo')
  t.ok(answers.slice(1).every((a) => a.status === 'rejected' && a.reason.code === 'GW_TOKEN_INVALID'), 'each stranger refused as a bad token, not a failed call')
  t.ok(batches >= 2, `sent in batches under the body limit (${batches})`)
})
