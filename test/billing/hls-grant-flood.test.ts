// One HLS URL shared with a crowd, through a real gateway's GET /verify (inject()) over the
// embedded store (/verify calls neither the resolver nor the auth-server): thousands of new viewer addresses on one grant of an unlimited account start
// one session, the rest are refused 403 GW_GRANT_IN_USE, and the sessions collection stays
// bounded; the gateway's own sweeper deletes what is over once its clock moves.

import t from 'tap'
import type { CommandStartedEvent } from 'mongodb'
import { loadConfig } from '../../src/config.js'
import { createGateway, type Gateway } from '../../src/gateway.js'
import { parseServiceKeys } from '../../src/signing/service-request.js'
import { cityFixture } from '../fixtures/mmdb/paths.js'
import { seedDemoData } from '../../src/demo/seed.js'
import { NODE, NODE_KEY, testSigner } from '../handlers/node/hook-fixtures.js'
import { TEST_SERVICE_KEYS } from '../helpers/processes.js'
import { startTestStore } from '../helpers/store.js'
import { TEST_SIGNING_KEYS } from '../helpers/system.js'

let clock = Date.parse('2030-01-01T00:00:00Z')
const now = (): number => clock
const IDLE_S = 10
const store = await startTestStore(t)
async function gatewayWith (sessionSweepMs: number): Promise<Gateway> {
  const config = loadConfig({}, {
    signingKeys: TEST_SIGNING_KEYS,
    serviceKeys: parseServiceKeys(TEST_SERVICE_KEYS),
    gatewayId: 'gw-test',
    logLevel: 'silent',
    cityDatabase: cityFixture,
    hlsIdleS: IDLE_S,
    hlsSessionMaxS: 600,
    sessionSweepMs,
    // Nor polls for ended sessions, nor guard checks: they read the session collections too.
    sessionEndPollMs: 0,
    sessionGuardMs: 0
  })
  const gateway = await createGateway({ config, store, now, defaultMetrics: false })
  t.teardown(() => gateway.close())
  return gateway
}
// The demo's groups and nodes: /verify knows its caller, NODE, by its key from the routing view.
await seedDemoData(store.collections)
// No sweeps here, so that the test can count the store commands the crowd costs.
const gateway = await gatewayWith(0)
const { sessions, sessionSlots } = store.collections
const signer = testSigner(now)
await store.collections.tariffs.insertMany([
  { _id: 'flood-unlimited', formats: ['hls'], patterns: ['streaming'], max_concurrent_streams: null },
  { _id: 'flood-three', formats: ['hls'], patterns: ['streaming'], max_concurrent_streams: null, hls_addresses_per_grant: 3 }
])
await store.collections.accounts.insertMany([
  { _id: 'acct-flood', tariff: 'flood-unlimited', status: 'active' },
  { _id: 'acct-flood-three', tariff: 'flood-three', status: 'active' }
])

let jtis = 0
const NODE_AUTHORIZATION = `Bearer ${NODE_KEY}`
const hlsUri = (grant: string, file = 'index.m3u8'): string => `/hls/${grant}/UIN-DEMO-1/cam-1/${file}`
const address = (i: number): string => `10.${Math.floor(i / 65_536) % 256}.${Math.floor(i / 256) % 256}.${i % 256}`

async function verify (uri: string, ip: string): Promise<{ status: number, code?: string }> {
  const answer = await gateway.app.inject({ method: 'GET', url: '/verify', headers: { 'x-original-uri': uri, 'x-geogate-node': NODE, 'x-real-ip': ip, authorization: NODE_AUTHORIZATION } })
  return answer.statusCode === 204 ? { status: 204 } : { status: answer.statusCode, code: answer.json().error.code }
}

/** Each address asks once, `concurrency` at a time; the answers counted by status and code. */
async function crowd (uri: string, addresses: number, concurrency: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (let start = 0; start < addresses; start += concurrency) {
    const wave = Array.from({ length: Math.min(concurrency, addresses - start) }, (_, k) => verify(uri, address(start + k)))
    for (const answer of await Promise.all(wave)) {
      const key = answer.code === undefined ? String(answer.status) : `${answer.status} ${answer.code}`
      counts[key] = (counts[key] ?? 0) + 1
    }
  }
  return counts
}

t.test('3,000 addresses on one grant of an unlimited account: one session', async (t) => {
  const grant = signer.sign({ own: 'acct-flood', fmt: 'hls', jti: `flood-${++jtis}` })
  let commands = 0
  const listener = (event: CommandStartedEvent): void => {
    const target = (event.command as Record<string, unknown>)[event.commandName]
    if (target === 'sessions' || target === 'session_slots') commands++
  }
  store.client.on('commandStarted', listener)
  try {
    t.same(await crowd(hlsUri(grant), 3000, 50), { 204: 1, '403 GW_GRANT_IN_USE': 2999 })
  } finally {
    store.client.off('commandStarted', listener)
  }
  // The admission, one refusal that tells the replica the grant's address, then memory.
  t.ok(commands <= 12, `${commands} commands on the session collections for 3,000 requests`)
  t.equal(await sessions.countDocuments({}), 1, 'the sessions collection holds one document')
  t.equal(await sessionSlots.countDocuments({}), 1, 'and the slots one seat')
  const answer = await gateway.app.inject({ method: 'GET', url: '/verify', headers: { 'x-original-uri': hlsUri(grant, 'seg-1.ts'), 'x-geogate-node': NODE, 'x-real-ip': address(1), authorization: NODE_AUTHORIZATION } })
  t.equal(answer.statusCode, 403, 'a refusal is a 403, which nginx\'s auth_request passes on')
  t.match(answer.json().error, { code: 'GW_GRANT_IN_USE', message: /URL of your own/ })
})

t.test('a tariff allowing three addresses per grant: three sessions', async (t) => {
  const grant = signer.sign({ own: 'acct-flood-three', fmt: 'hls', jti: `flood-${++jtis}` })
  t.same(await crowd(hlsUri(grant), 500, 50), { 204: 3, '403 GW_GRANT_IN_USE': 497 })
  t.equal(await sessions.countDocuments({ owner: 'acct-flood-three' }), 3)
})

t.test('the gateway\'s sweeper deletes what is over once the clock moves', async (t) => {
  await gatewayWith(50)
  t.ok(await sessions.countDocuments({}) > 0)
  // Past the grants' exp, the sessions' idle lease and the sweep's minute of grace.
  clock += 60_000 + IDLE_S * 1000 + 60_000 + 1000
  const deadline = Date.now() + 10_000
  while ((await sessions.countDocuments({}) > 0 || await sessionSlots.countDocuments({}) > 0) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.equal(await sessions.countDocuments({}), 0, 'no session documents')
  t.equal(await sessionSlots.countDocuments({}), 0, 'no seats')
})
