// Revoking a token takes effect within AUTH_GRANT_TTL_MS on every gateway replica: two gateways
// on one store and one auth-server, their clock moved instead of waited on.

import t from 'tap'
import { createToken, revokeToken } from '../../src/auth/token-admin.js'
import { createGateway } from '../../src/gateway.js'
import { get, startSystem } from '../helpers/system.js'

let clock = Date.now()
const now = (): number => clock
const GRANT_TTL_MS = 60_000

// Nodes are not kept alive by a timer on a moved clock: they are trusted for a day.
const system = await startSystem(t, { now, config: { authGrantTtlMs: GRANT_TTL_MS, nodeTtlS: 86_400, authTimeoutMs: 5000 } })
const second = await createGateway({ config: system.config, store: system.store, now, defaultMetrics: false })
t.teardown(() => second.close())
const replicas = [system.gatewayUrl, await second.app.listen({ host: '127.0.0.1', port: 0 })]

const statusOf = async (url: string, token: string, camera: string): Promise<number> =>
  (await get(`${url}/flv?server=UIN-DEMO-1&camera=${camera}&access_token=${token}`, { headers: { 'x-forwarded-for': '77.88.8.8' } })).status

t.test('a revoked token is refused by every replica within AUTH_GRANT_TTL_MS', async (t) => {
  const { token } = await createToken(system.store.collections.tokens, {
    owner_type: 'account', owner_id: 'acct-demo', grants: [{ object_type: 'camera', object_id: 'UIN-DEMO-1/*', rights: ['view'] }]
  })
  for (const url of replicas) t.equal(await statusOf(url, token, 'cam-1'), 302, `${url}: allowed`)
  t.ok(await revokeToken(system.store.collections.tokens, token))
  clock += 1000
  for (const url of replicas) t.equal(await statusOf(url, token, 'cam-2'), 302, `${url}: still its cached rights, on another camera too`)
  clock += GRANT_TTL_MS
  for (const url of replicas) {
    t.equal(await statusOf(url, token, 'cam-1'), 401, `${url}: refused once AUTH_GRANT_TTL_MS has passed`)
    t.equal(await statusOf(url, token, 'cam-2'), 401)
  }
})
