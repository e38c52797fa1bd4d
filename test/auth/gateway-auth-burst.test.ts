// A burst of 500 concurrent gateway requests with one new token makes one auth-server call,
// counted on the real auth-server process.

import t from 'tap'
import { Agent, request } from 'undici'
import { hashToken } from '../../src/auth/token-hash.js'
import { startSystem } from '../helpers/system.js'

const system = await startSystem(t)
const agent = new Agent({ connections: 128 })
t.teardown(() => agent.close())

async function authorizeCalls (): Promise<number> {
  const text = await (await request(system.authServer.metricsUrl)).body.text()
  let total = 0
  for (const match of text.matchAll(/^geogate_auth_requests_total\{[^}]*\} (\d+)/gm)) total += Number(match[1])
  return total
}

t.test('500 concurrent requests with one new token: one auth-server call', async (t) => {
  await request(`${system.gatewayUrl}/flv?server=UIN-DEMO-1&camera=cam-1&access_token=demo-viewer-token`, { dispatcher: agent }).then((r) => r.body.dump())
  await system.store.collections.tokens.insertOne({
    _id: hashToken('burst-token'), owner_type: 'account', owner_id: 'acct-demo', grants: [{ object_type: 'camera', object_id: 'UIN-DEMO-1/*', rights: ['view'] }], expires_at: null
  })
  const before = await authorizeCalls()
  const statuses = await Promise.all(Array.from({ length: 500 }, async () => {
    const res = await request(`${system.gatewayUrl}/flv?server=UIN-DEMO-1&camera=cam-1&access_token=burst-token`, { headers: { 'x-forwarded-for': '77.88.8.8' }, dispatcher: agent })
    await res.body.dump()
    return res.statusCode
  }))
  t.equal(statuses.filter((s) => s === 302).length, 500, 'every request redirected')
  t.equal(await authorizeCalls() - before, 1, 'the auth-server answered exactly one call')
})
