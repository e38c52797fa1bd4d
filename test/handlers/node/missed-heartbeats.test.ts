// A node that stops beating is out of new choices after two missed beats at its own pace, on
// every replica, and back after one good beat: two gateways on one store, one moved clock,
// heartbeats every 2 s through the heartbeat route (each replica learns the pace from what it
// reads of the store), NODE_TTL_S far longer (15 s).

import t from 'tap'
import { request } from 'undici'
import { demoNodeKey } from '../../../src/demo/demo-data.js'
import { createGateway, type Gateway } from '../../../src/gateway.js'
import { get, startSystem } from '../../helpers/system.js'

let clock = Date.parse('2026-11-21T12:00:00Z')
const now = (): number => clock
const system = await startSystem(t, { now, config: { nodeTtlS: 15, snapshotRefreshMs: 1000 } })
const second = await createGateway({ config: system.config, store: system.store, now, defaultMetrics: false })
t.teardown(() => second.close())
const replicas: Array<{ name: string, url: string, gateway: Gateway }> = [
  { name: 'replica a', url: system.gatewayUrl, gateway: system.gateway },
  { name: 'replica b', url: await second.app.listen({ host: '127.0.0.1', port: 0 }), gateway: second }
]
const cameras = Array.from({ length: 12 }, (_, i) => `cam-${i}`)
await system.store.collections.servers.insertOne({
  _id: 'UIN-MANY', partner: 'demo', owner: 'acct-demo', dc: 'msk', online: true, cameras: Object.fromEntries(cameras.map((c) => [c, { online: true, streams: [] }]))
})
await system.store.collections.tokens.updateMany({ owner_id: 'acct-demo' }, { $set: { grants: [{ object_type: 'camera', object_id: '*', rights: ['view'] }] } })

async function beat (node: string): Promise<void> {
  const res = await request(`${system.gatewayUrl}/api/v1/nodes/${node}/heartbeat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${demoNodeKey(node)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sessions: 0, mbps: 1, cpu: 5 })
  })
  if (res.statusCode !== 200) throw new Error(`heartbeat ${res.statusCode}: ${await res.body.text()}`)
  await res.body.dump()
}

/** Both Moscow nodes beat at the clock, and each replica reads the store. */
async function beatBoth (): Promise<void> {
  await Promise.all([beat('node-moscow-1'), beat('node-moscow-2')])
  await Promise.all(replicas.map((r) => r.gateway.refreshSnapshot()))
}

/** The nodes a replica sends Moscow viewers of every camera to. */
async function moscowNodes (base: string): Promise<string[]> {
  const seen = new Set<string>()
  for (const camera of cameras) {
    const answer = await get(`${base}/flv?server=UIN-MANY&camera=${camera}&access_token=demo-viewer-token&redirect=false`, { headers: { 'x-forwarded-for': '77.88.8.8' } })
    seen.add(answer.status === 200 ? answer.json().node.id : `status ${answer.status}`)
  }
  return [...seen].sort()
}

t.test('silent for two beats: out on every replica; one good beat: back', async (t) => {
  const start = clock
  for (let i = 0; i <= 3; i++) {
    clock = start + i * 2000
    await beatBoth()
  }
  const last = clock
  for (const r of replicas) t.same(await moscowNodes(r.url), ['node-moscow-1', 'node-moscow-2'], `${r.name}: both Moscow nodes take cameras`)

  // node-moscow-2 goes on beating every 2 s; node-moscow-1 stops.
  clock = last + 2000
  await beat('node-moscow-2')
  await Promise.all(replicas.map((r) => r.gateway.refreshSnapshot()))
  clock = last + 3900
  for (const r of replicas) t.same(await moscowNodes(r.url), ['node-moscow-1', 'node-moscow-2'], `${r.name}: one beat missed, still chosen`)
  clock = last + 4000
  for (const r of replicas) t.same(await moscowNodes(r.url), ['node-moscow-1', 'node-moscow-2'], `${r.name}: 4.0 s after its last beat, still chosen`)
  clock = last + 4001
  for (const r of replicas) t.same(await moscowNodes(r.url), ['node-moscow-2'], `${r.name}: two beats missed (4 s), no new viewer, long before NODE_TTL_S (15 s)`)

  clock = last + 5000
  await beatBoth()
  for (const r of replicas) t.same(await moscowNodes(r.url), ['node-moscow-1', 'node-moscow-2'], `${r.name}: one good beat brings it back`)
  clock += 3900
  for (const r of replicas) t.same(await moscowNodes(r.url), ['node-moscow-1', 'node-moscow-2'], `${r.name}: the pace learned before the silence still holds`)
})

t.test('a node beating slower than NODE_TTL_S / 2 is bounded by NODE_TTL_S', async (t) => {
  const start = clock
  for (let i = 1; i <= 3; i++) {
    clock = start + i * 10_000
    await beatBoth()
  }
  clock += 15_000
  for (const r of replicas) t.same(await moscowNodes(r.url), ['node-moscow-1', 'node-moscow-2'], `${r.name}: 15 s after a beat every 10 s, still chosen`)
  clock += 1
  for (const r of replicas) t.same(await moscowNodes(r.url), ['status 503'], `${r.name}: past NODE_TTL_S, out (two paces would be 20 s)`)
  clock += 1000
  await beatBoth()
})
