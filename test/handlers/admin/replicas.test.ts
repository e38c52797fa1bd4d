// Many replicas share one store: two `geogate gateway` processes, an admin write through one,
// and the other's choice follows within 2 s.

import t from 'tap'
import { request } from 'undici'
import { startGeogate } from '../../helpers/processes.js'
import { get, replicaEnv, startSystem } from '../../helpers/system.js'

const system = await startSystem(t)
const cameras = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`cam-${i}`, { online: true, streams: ['main'] }]))
await system.store.collections.servers.insertOne({ _id: 'UIN-MANY', partner: 'demo', owner: 'acct-demo', dc: 'msk', online: true, cameras })
await system.store.collections.tokens.updateOne({ owner_id: 'acct-demo', owner_type: 'account' }, { $set: { grants: [{ object_type: 'camera', object_id: '*', rights: ['view'] }] } })

const env = replicaEnv(system, { TRUSTED_PROXIES: '127.0.0.0/8', SNAPSHOT_REFRESH_MS: '1000' })
const [a, b] = await Promise.all([
  startGeogate(t, 'gateway', { ...env, GATEWAY_ID: 'gw-a' }),
  startGeogate(t, 'gateway', { ...env, GATEWAY_ID: 'gw-b' })
])

async function nodeFor (gateway: string, camera: string): Promise<string> {
  const answer = await get(`${gateway}/flv?server=UIN-MANY&camera=${camera}&access_token=demo-viewer-token&redirect=false`, { headers: { 'x-forwarded-for': '77.88.8.8' } })
  if (answer.status !== 200) throw new Error(`${answer.status} ${answer.body}`)
  return answer.json().node.id
}

t.test('both replicas pick the same node for every camera', async (t) => {
  for (const camera of Object.keys(cameras)) {
    t.equal(await nodeFor(a.url, camera), await nodeFor(b.url, camera), camera)
  }
})

t.test('a weight changed through one replica changes the other\'s choice within 2 s', async (t) => {
  const onSecond: string[] = []
  for (const camera of Object.keys(cameras)) {
    if (await nodeFor(b.url, camera) === 'node-moscow-2') onSecond.push(camera)
  }
  t.ok(onSecond.length > 0, 'some cameras start on node-moscow-2 (weight 5 of 15)')
  const node = await (await request(`${a.url}/api/v1/nodes/node-moscow-2`, { headers: { authorization: 'Bearer demo-admin-token' } })).body.json() as Record<string, unknown>
  const { has_key: _hasKey, last_seen: _lastSeen, load: _load, reported_status: _reported, ...body } = node
  const put = await request(`${a.url}/api/v1/nodes/node-moscow-2`, {
    method: 'PUT',
    headers: { authorization: 'Bearer demo-admin-token', 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, weight: 0.0001 })
  })
  t.equal(put.statusCode, 200, await put.body.text())
  const written = Date.now()
  const camera = onSecond[0] ?? ''
  let moved = false
  while (Date.now() - written < 2000) {
    if (await nodeFor(b.url, camera) === 'node-moscow-1') { moved = true; break }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.ok(moved, `replica b moved ${camera} to node-moscow-1 within 2 s of the write`)
})
