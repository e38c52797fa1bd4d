// Heartbeats through a store outage: the gateway recognises the node from its routing view,
// cannot store the beat, applies it to its own view instead and answers 200 with "stored":
// false, so the node is not told it is refused for the store's outage and stays eligible on
// this replica. The store is cut by a proxy that stops answering, as a stalled network does.

import Fastify from 'fastify'
import { startCutStoreSystem } from '../../helpers/cut-store.js'
import t from 'tap'
import { request } from 'undici'
import { demoNodeKey } from '../../../src/demo/demo-data.js'
import { registerHeartbeatRoute } from '../../../src/handlers/node/heartbeat-route.js'
import { errorPlugin } from '../../../src/http/error-plugin.js'
import { get } from '../../helpers/system.js'

if (process.env.MONGODB_URL !== undefined && process.env.MONGODB_URL !== '') {
  t.plan(0, 'cuts an embedded store behind a proxy; not run against an external MongoDB')
  process.exit(0)
}

const clock = Date.now()
// Every node alive but the two in Moscow, silent for a minute: a Moscow client goes to London.
const silentSince = new Date(clock - 60_000)
const { direct, proxy, gateway, base } = await startCutStoreSystem(t, {
  database: 'beats',
  config: { nodeTtlS: 15, mongodbQueryTimeoutMs: 300 },
  // A clock that stands still: what keeps a node eligible here is its heartbeat, not time.
  now: () => clock,
  prepare: async (store) => { await store.collections.nodes.updateMany({ _id: { $in: ['node-moscow-1', 'node-moscow-2'] } }, { $set: { last_seen: silentSince } }) }
})

async function heartbeat (node: string, key: string, status?: 'up' | 'draining'): Promise<{ status: number, json: any }> {
  const res = await request(`${base}/api/v1/nodes/${node}/heartbeat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sessions: 1, mbps: 2, cpu: 3, ...(status !== undefined && { status }) }),
    headersTimeout: 30_000
  })
  return { status: res.statusCode, json: await res.body.json() }
}

/** The node a Moscow client is sent to. */
async function chosen (): Promise<string> {
  const answer = await get(`${base}/flv?server=UIN-DEMO-1&camera=cam-1&access_token=demo-viewer-token&redirect=false`, { headers: { 'x-forwarded-for': '77.88.8.8' } })
  return answer.status === 200 ? answer.json().node.id : `${answer.status} ${answer.body}`
}

t.test('before the outage: the silent Moscow nodes get nobody', async (t) => {
  t.equal(await chosen(), 'node-london-1')
})

t.test('with the store cut, a heartbeat is answered 200, not stored, and counts on this replica', async (t) => {
  proxy.mode('blackhole')
  const beat = await heartbeat('node-moscow-1', demoNodeKey('node-moscow-1'))
  t.equal(beat.status, 200, `answered 200: ${JSON.stringify(beat.json)}`)
  t.same(beat.json, { node: 'node-moscow-1', status: 'up', draining: false, stored: false, leases_renewed: false, node_ttl_s: 15 }, 'and told it was not stored')
  t.equal(await chosen(), 'node-moscow-1', 'the node is eligible again on this replica')

  const draining = await heartbeat('node-moscow-1', demoNodeKey('node-moscow-1'), 'draining')
  t.match(draining.json, { status: 'draining', stored: false })
  t.equal(await chosen(), 'node-london-1', 'a draining beat applies in place too')
  t.match((await heartbeat('node-moscow-1', demoNodeKey('node-moscow-1'))).json, { status: 'up', stored: false })
  t.equal(await chosen(), 'node-moscow-1')

  t.equal(gateway.storeHealth.state(), 'down', 'the gateway knows the store is down')
  const stranger = await heartbeat('node-moscow-2', demoNodeKey('node-moscow-1'))
  t.equal(stranger.status, 503, 'a key the view does not hold cannot be checked without the store: never a 200')
  t.equal(stranger.json.error.code, 'GW_DEPENDENCY_DOWN')
  t.equal(await chosen(), 'node-moscow-1', 'and changes nothing')
})

t.test('with the store back, heartbeats are stored again', async (t) => {
  t.same((await direct.collections.nodes.findOne({ _id: 'node-moscow-1' }))?.last_seen, silentSince, 'the beats of the outage never reached the store')
  proxy.mode('pass')
  const deadline = Date.now() + 20_000
  let beat = await heartbeat('node-moscow-1', demoNodeKey('node-moscow-1'))
  while (beat.json.stored !== true && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200))
    beat = await heartbeat('node-moscow-1', demoNodeKey('node-moscow-1'))
  }
  t.match(beat, { status: 200, json: { stored: true } }, 'stored once the store answers')
  t.match(await direct.collections.nodes.findOne({ _id: 'node-moscow-1' }), { last_seen: new Date(clock), load: { sessions: 1, mbps: 2, cpu: 3 }, reported_status: 'up' })
  t.equal(await chosen(), 'node-moscow-1')
})

t.test('a beat the store took whose lease renewal then fails is still a 200, saying so', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(errorPlugin)
  registerHeartbeatRoute(app, {
    nodes: direct.collections.nodes,
    routing: { current: () => undefined },
    now: () => clock,
    nodeTtlS: 15,
    // The store went away between the beat and the renewal of the node's play leases.
    afterBeat: async () => { throw new Error('the store stopped answering') }
  })
  const answer = await app.inject({
    method: 'POST',
    url: '/api/v1/nodes/node-london-1/heartbeat',
    headers: { authorization: `Bearer ${demoNodeKey('node-london-1')}` },
    payload: { sessions: 0, mbps: 0, cpu: 0 }
  })
  t.equal(answer.statusCode, 200, 'the node is alive, and is not told otherwise')
  t.match(answer.json(), { stored: true, leases_renewed: false })
})
