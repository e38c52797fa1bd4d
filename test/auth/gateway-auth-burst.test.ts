// A token's rights are learned once per token, not once per camera: a burst of 1,000 concurrent
// gateway requests for 100 cameras with one new token makes one auth-server call, counted on
// the real auth-server process, and a camera the token may not view is still refused.

import t from 'tap'
import { Agent, request } from 'undici'
import { hashToken } from '../../src/auth/token-hash.js'
import { startSystem } from '../helpers/system.js'

const system = await startSystem(t)
const agent = new Agent({ connections: 128 })
t.teardown(() => agent.close())

async function authServerCalls (): Promise<number> {
  const text = await (await request(system.authServer.metricsUrl)).body.text()
  let total = 0
  for (const match of text.matchAll(/^geogate_auth_requests_total\{[^}]*\} (\d+)/gm)) total += Number(match[1])
  return total
}

t.test('1,000 concurrent requests for 100 cameras with one new token: one auth-server call', async (t) => {
  const cameras = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`cam-${i}`, { online: true, streams: ['main'] }]))
  await system.store.collections.servers.insertOne({ _id: 'UIN-BURST', partner: 'demo', owner: 'acct-demo', dc: 'msk', online: true, cameras })
  await request(`${system.gatewayUrl}/flv?server=UIN-DEMO-1&camera=cam-1&access_token=demo-viewer-token`, { dispatcher: agent }).then((r) => r.body.dump())
  await system.store.collections.tokens.insertOne({
    _id: hashToken('burst-token'), owner_type: 'account', owner_id: 'acct-demo', grants: [{ object_type: 'camera', object_id: 'UIN-BURST/*', rights: ['view'] }], expires_at: null
  })
  const before = await authServerCalls()
  const statuses = await Promise.all(Array.from({ length: 1000 }, async (_, i) => {
    const res = await request(`${system.gatewayUrl}/flv?server=UIN-BURST&camera=cam-${i % 100}&access_token=burst-token`, { headers: { 'x-forwarded-for': '77.88.8.8' }, dispatcher: agent })
    await res.body.dump()
    return res.statusCode
  }))
  t.equal(statuses.filter((s) => s === 302).length, 1000, 'every request redirected')
  t.equal(await authServerCalls() - before, 1, 'the auth-server answered exactly one call')

  const refused = await request(`${system.gatewayUrl}/flv?server=UIN-DEMO-1&camera=cam-1&access_token=burst-token`, { headers: { 'x-forwarded-for': '77.88.8.8' }, dispatcher: agent })
  t.equal(refused.statusCode, 403, 'a camera no grant of the token covers')
  t.equal((await refused.body.json() as { error: { code: string } }).error.code, 'GW_FORBIDDEN')
  t.equal(await authServerCalls() - before, 1, 'refused from the same answer')
})
