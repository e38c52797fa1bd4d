// Node liveness: heartbeats with the node's own key, NODE_TTL decided by the injected clock,
// and the two drains: the admin's (`draining`, audited, never touched by a heartbeat) and the
// node's own (`reported_status`, liveness, never audited).

import t from 'tap'
import { request } from 'undici'
import { demoNodeKey } from '../../../src/demo/demo-data.js'
import { get, startSystem } from '../../helpers/system.js'

let clock = Date.parse('2026-11-21T12:00:00Z')
const system = await startSystem(t, { now: () => clock, config: { nodeTtlS: 15 } })
const base = system.gatewayUrl
const cameras = Array.from({ length: 16 }, (_, i) => `cam-${i}`)
await system.store.collections.servers.insertOne({
  _id: 'UIN-MANY', partner: 'demo', owner: 'acct-demo', dc: 'msk', online: true, cameras: Object.fromEntries(cameras.map((c) => [c, { online: true, streams: [] }]))
})
await system.store.collections.tokens.updateMany({ owner_id: 'acct-demo' }, { $set: { grants: [{ object_type: 'camera', object_id: '*', rights: ['view'] }] } })

async function heartbeat (node: string, key: string, body: Record<string, unknown> = { sessions: 0, mbps: 2.5, cpu: 10 }): Promise<{ status: number, json: any }> {
  const res = await request(`${base}/api/v1/nodes/${node}/heartbeat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body)
  })
  return { status: res.statusCode, json: await res.body.json() }
}

async function moscowNodes (): Promise<Set<string>> {
  const seen = new Set<string>()
  for (const camera of cameras) {
    const answer = await get(`${base}/flv?server=UIN-MANY&camera=${camera}&access_token=demo-viewer-token&redirect=false`, { headers: { 'x-forwarded-for': '77.88.8.8' } })
    seen.add(answer.status === 200 ? answer.json().node.id : `status ${answer.status}`)
  }
  return seen
}

t.test('a heartbeat needs the node\'s own key and records the load', async (t) => {
  const wrong = await heartbeat('node-moscow-1', demoNodeKey('node-moscow-2'))
  t.equal(wrong.status, 401)
  const unknown = await heartbeat('node-nowhere', demoNodeKey('node-moscow-1'))
  t.equal(unknown.status, 401, 'an unknown node answers like a wrong key')
  const bad = await heartbeat('node-moscow-1', demoNodeKey('node-moscow-1'), { sessions: -1, mbps: 0, cpu: 0 })
  t.equal(bad.status, 400)
  const good = await heartbeat('node-moscow-1', demoNodeKey('node-moscow-1'), { sessions: 0, mbps: 12.5, cpu: 33 })
  t.equal(good.status, 200)
  t.same(good.json, { node: 'node-moscow-1', status: 'up', draining: false, stored: true, leases_renewed: true, node_ttl_s: 15 })
  const stored = await system.store.collections.nodes.findOne({ _id: 'node-moscow-1' })
  t.same(stored?.load, { sessions: 0, mbps: 12.5, cpu: 33 })
  t.equal(stored?.last_seen?.getTime(), clock)
})

t.test('a node whose heartbeats stop gets no new redirects after NODE_TTL', async (t) => {
  const start = clock
  await system.store.collections.nodes.updateMany({}, { $set: { last_seen: new Date(start), load: { sessions: 0, mbps: 0, cpu: 0 } } })
  await system.gateway.refreshSnapshot()
  t.same([...await moscowNodes()].sort(), ['node-moscow-1', 'node-moscow-2'], 'both Moscow nodes take cameras')

  clock = start + 10_000
  t.equal((await heartbeat('node-moscow-2', demoNodeKey('node-moscow-2'))).status, 200)
  clock = start + 14_000
  await system.gateway.refreshSnapshot()
  t.same([...await moscowNodes()].sort(), ['node-moscow-1', 'node-moscow-2'], 'both still alive at 14 s')

  clock = start + 16_000
  await system.gateway.refreshSnapshot()
  t.same([...await moscowNodes()], ['node-moscow-2'], 'node-moscow-1 is silent past NODE_TTL and gets nobody')

  clock = start + 26_000
  await system.gateway.refreshSnapshot()
  const none = await get(`${base}/flv?server=UIN-DEMO-1&camera=cam-1&access_token=demo-viewer-token`, { headers: { 'x-forwarded-for': '77.88.8.8' } })
  t.equal(none.status, 503, 'with every node silent there is no node')
  t.equal(none.json().error.code, 'GW_NO_NODE')

  t.equal((await heartbeat('node-moscow-1', demoNodeKey('node-moscow-1'))).status, 200)
  await system.gateway.refreshSnapshot()
  t.same([...await moscowNodes()], ['node-moscow-1'], 'a heartbeat brings a node back')
})

t.test('a draining node gets no new viewers', async (t) => {
  await heartbeat('node-moscow-2', demoNodeKey('node-moscow-2'))
  const drain = await heartbeat('node-moscow-1', demoNodeKey('node-moscow-1'), { sessions: 3, mbps: 1, cpu: 5, status: 'draining' })
  t.equal(drain.json.status, 'draining')
  await system.gateway.refreshSnapshot()
  t.same([...await moscowNodes()], ['node-moscow-2'])
  await heartbeat('node-moscow-1', demoNodeKey('node-moscow-1'), { sessions: 3, mbps: 1, cpu: 5, status: 'up' })
  await system.gateway.refreshSnapshot()
  t.ok((await moscowNodes()).has('node-moscow-1'), 'status up ends draining')
})

const admin = { authorization: 'Bearer demo-admin-token' }

async function patchNode (node: string, patch: Record<string, unknown>): Promise<{ status: number, json: any }> {
  const res = await request(`${base}/api/v1/nodes/${node}`, {
    method: 'PATCH',
    headers: { ...admin, 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify(patch)
  })
  return { status: res.statusCode, json: await res.body.json() }
}

async function apiNode (node: string): Promise<any> {
  return await (await request(`${base}/api/v1/nodes/${node}`, { headers: admin })).body.json()
}

const auditOf = async (node: string): Promise<any[]> => await system.store.collections.audit.find({ collection: 'nodes', id: node }).sort({ at: 1 }).toArray()

t.test('an admin\'s drain outlasts the node\'s heartbeats, and only the admin\'s change is audited', async (t) => {
  await heartbeat('node-moscow-1', demoNodeKey('node-moscow-1'), { sessions: 0, mbps: 1, cpu: 5, status: 'up' })
  await heartbeat('node-moscow-2', demoNodeKey('node-moscow-2'))
  await system.gateway.refreshSnapshot()
  t.ok((await moscowNodes()).has('node-moscow-1'), 'up before the drain')
  const auditBefore = await auditOf('node-moscow-1')

  t.equal((await patchNode('node-moscow-1', { draining: true })).status, 200)
  const beat = await heartbeat('node-moscow-1', demoNodeKey('node-moscow-1'), { sessions: 0, mbps: 1, cpu: 5, status: 'up' })
  t.same(beat.json, { node: 'node-moscow-1', status: 'up', draining: true, stored: true, leases_renewed: true, node_ttl_s: 15 }, 'the node hears it is drained by an admin')
  await system.gateway.refreshSnapshot()
  t.same([...await moscowNodes()], ['node-moscow-2'], 'still drained: a heartbeat saying up does not undo the admin\'s drain')
  t.match(await system.store.collections.nodes.findOne({ _id: 'node-moscow-1' }), { draining: true, reported_status: 'up' })
  t.match(await apiNode('node-moscow-1'), { draining: true, reported_status: 'up' }, 'the API shows both')

  const added = (await auditOf('node-moscow-1')).slice(auditBefore.length)
  t.equal(added.length, 1, 'one audit entry: the admin\'s change, none for the heartbeats')
  t.match(added[0], { action: 'update', actor: 'admin:demo-admin', before: { draining: false }, after: { draining: true } })

  t.equal((await patchNode('node-moscow-1', { draining: false })).status, 200)
  await system.gateway.refreshSnapshot()
  t.ok((await moscowNodes()).has('node-moscow-1'), 'the admin\'s undrain brings it back')
})

t.test('a node reporting draining is not chosen; the admin\'s draining stays false', async (t) => {
  const auditBefore = (await auditOf('node-moscow-1')).length
  const beat = await heartbeat('node-moscow-1', demoNodeKey('node-moscow-1'), { sessions: 2, mbps: 1, cpu: 5, status: 'draining' })
  t.same(beat.json, { node: 'node-moscow-1', status: 'draining', draining: false, stored: true, leases_renewed: true, node_ttl_s: 15 })
  await system.gateway.refreshSnapshot()
  t.same([...await moscowNodes()], ['node-moscow-2'])
  t.match(await apiNode('node-moscow-1'), { draining: false, reported_status: 'draining' }, 'GET shows the reported status beside the admin\'s draining')
  t.equal((await auditOf('node-moscow-1')).length, auditBefore, 'heartbeats are not audited')

  const refused = await patchNode('node-moscow-1', { reported_status: 'up' })
  t.equal(refused.status, 400, 'the reported status is the node\'s, not the admin\'s to patch')
  t.match(refused.json.error.message, /reported_status/)
  t.equal((await patchNode('node-moscow-1', { weight: 10 })).json.reported_status, 'draining', 'an admin write keeps what the node reported')

  const back = await heartbeat('node-moscow-1', demoNodeKey('node-moscow-1'), { sessions: 2, mbps: 1, cpu: 5 })
  t.equal(back.json.status, 'up', 'a heartbeat without a status says up')
  await system.gateway.refreshSnapshot()
  t.ok((await moscowNodes()).has('node-moscow-1'))
})

t.test('a heartbeat reaches routing without a full reload: liveness is read in place', async (t) => {
  const before = await moscowNodes()
  t.ok(before.has('node-moscow-1'))
  await heartbeat('node-moscow-1', demoNodeKey('node-moscow-1'), { sessions: 0, mbps: 1, cpu: 5, status: 'draining' })
  // No refreshSnapshot here: the next tick reads the heartbeat (bounded wait, 1 s ticks).
  const deadline = Date.now() + 5000
  let seen = await moscowNodes()
  while (seen.has('node-moscow-1') && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    seen = await moscowNodes()
  }
  t.same([...seen], ['node-moscow-2'], 'the draining heartbeat took node-moscow-1 out of new choices')
})
