// The gateway's auth client against a real auth-server that answers only signed calls: signed,
// it is answered; refused for its signature, it reports the auth-server unusable (503), never a
// bad token, and caches nothing.

import t from 'tap'
import { createAuthClient } from '../../src/auth/auth-client.js'
import { authServerApp } from '../../src/auth-server/app.js'
import { buildApp } from '../../src/server.js'
import { createToken } from '../../src/auth/token-admin.js'
import { createStoreNonceLedger } from '../../src/signing/nonce-ledger.js'
import { createServiceSigner } from '../../src/signing/service-request.js'
import { startTestStore } from '../helpers/store.js'

const key = { id: 'gw', secret: 'gw-secret-0123456789abcdef0123456789ab' }
const store = await startTestStore(t)
const viewer = await createToken(store.collections.tokens, {
  owner_type: 'account', owner_id: 'acct-demo', grants: [{ object_type: 'camera', object_id: 'UIN-DEMO-1/*', rights: ['view'] }]
})
const app = await buildApp(authServerApp, {
  tokens: store.collections.tokens,
  signedCalls: { keys: [key], clockSkewS: 30, nonces: createStoreNonceLedger(store.collections.serviceNonces) }
})
t.teardown(() => app.close())
const url = await app.listen({ host: '127.0.0.1', port: 0 })
const viewCam1 = { rights: 'view', object_type: 'camera', object_id: 'UIN-DEMO-1/cam-1' }
// What is checked here is the signature, not the deadline: a first call to a cold auth-server on
// a busy machine may take longer than the default 500 ms.
const timeoutMs = 5000

t.test('signed calls are answered, one nonce each', async (t) => {
  const auth = createAuthClient({ url, timeoutMs, cacheMax: 10, sign: createServiceSigner(key) })
  t.teardown(() => auth.close())
  t.equal((await auth.authorize(viewer.token, viewCam1)).owner_id, 'acct-demo')
  await t.rejects(auth.authorize('no-such-token', viewCam1), { code: 'GW_TOKEN_INVALID' }, 'a bad token is still a bad token')
  t.equal(await store.collections.serviceNonces.countDocuments(), 2)
})

t.test('a signed batch is answered, one nonce for the whole batch; a large one too', async (t) => {
  const auth = createAuthClient({ url, timeoutMs, cacheMax: 100, sign: createServiceSigner(key) })
  t.teardown(() => auth.close())
  const before = await store.collections.serviceNonces.countDocuments()
  const asked = [viewer.token, ...Array.from({ length: 9 }, (_, i) => `stranger-${i}-${'é'.repeat(4000)}`)]
  const answers = await Promise.allSettled(asked.map((token) => auth.authorize(token, viewCam1)))
  t.equal(answers[0]?.status === 'fulfilled' && answers[0].value.owner_id, 'acct-demo')
  t.ok(answers.slice(1).every((a) => a.status === 'rejected' && a.reason.code === 'GW_TOKEN_INVALID'))
  t.equal(await store.collections.serviceNonces.countDocuments(), before + 1, 'one signed call')
})

t.test('a refused signature is the auth-server unusable, not a bad token, and not cached', async (t) => {
  for (const sign of [undefined, createServiceSigner({ id: 'gw', secret: 'another-secret-0123456789abcdef0123' })]) {
    const auth = createAuthClient({ url, timeoutMs, cacheMax: 10, ...(sign !== undefined && { sign }) })
    t.teardown(() => auth.close())
    await t.rejects(auth.authorize(viewer.token, viewCam1), { code: 'GW_DEPENDENCY_DOWN', message: /refused this gateway's signature/ })
    t.equal(auth.peek(viewer.token, viewCam1), undefined, 'nothing cached')
  }
})
