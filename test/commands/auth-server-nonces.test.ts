// Where the auth-server remembers the nonces of signed calls (SERVICE_NONCES): in the store,
// shared by replicas, by default; in its memory when asked, as `geogate dev` asks by default.
// Either way a replayed call is refused.

import t from 'tap'
import { createToken } from '../../src/auth/token-admin.js'
import { createAuthService } from '../../src/commands/auth-server.js'
import { devConfig } from '../../src/commands/dev.js'
import { loadConfig } from '../../src/config.js'
import { createServiceSigner, formatServiceKeys, type ServiceKey } from '../../src/signing/service-request.js'
import { startTestStore } from '../helpers/store.js'

const key: ServiceKey = { id: 'gw', secret: 'nonce-test-secret-0123456789abcdef0123' }
const store = await startTestStore(t)
const viewer = await createToken(store.collections.tokens, {
  owner_type: 'account', owner_id: 'acct-demo', grants: [{ object_type: 'camera', object_id: 'UIN-DEMO-1/*', rights: ['view'] }]
})
const body = JSON.stringify({ token: viewer.token, rights: 'view', object_type: 'camera', object_id: 'UIN-DEMO-1/cam-1' })
const sign = createServiceSigner(key)

async function twice (nonces: string | undefined): Promise<number[]> {
  const env: NodeJS.ProcessEnv = { SERVICE_KEYS: formatServiceKeys([key]), LOG_LEVEL: 'silent', ...(nonces !== undefined && { SERVICE_NONCES: nonces }) }
  const app = await createAuthService(loadConfig(env), store)
  t.teardown(() => app.close())
  const headers = { 'content-type': 'application/json', ...sign('POST', '/authorize', body) }
  const statuses: number[] = []
  for (let i = 0; i < 2; i++) statuses.push((await app.inject({ method: 'POST', url: '/authorize', headers, payload: body })).statusCode)
  return statuses
}

t.test('by default the nonces are in the store, where every replica sees them', async (t) => {
  const before = await store.collections.serviceNonces.countDocuments()
  t.same(await twice(undefined), [200, 401], 'the replay is refused')
  t.equal(await store.collections.serviceNonces.countDocuments(), before + 1, 'one nonce written')
})

t.test('SERVICE_NONCES=memory keeps them in the process, and refuses a replay just the same', async (t) => {
  const before = await store.collections.serviceNonces.countDocuments()
  t.same(await twice('memory'), [200, 401], 'the replay is refused')
  t.equal(await store.collections.serviceNonces.countDocuments(), before, 'nothing written to the store')
})

t.test('an unknown place is a configuration error', async (t) => {
  t.throws(() => loadConfig({ SERVICE_NONCES: 'disk' }), /SERVICE_NONCES: /)
})

t.test('geogate dev, which runs one auth-server, keeps them in memory unless told otherwise', async (t) => {
  t.equal(devConfig(loadConfig({}), {}).serviceNonces, 'memory')
  t.equal(devConfig(loadConfig({ SERVICE_NONCES: 'store' }), { SERVICE_NONCES: 'store' }).serviceNonces, 'store')
})
