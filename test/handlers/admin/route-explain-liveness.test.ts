// The route explainer measures node liveness as the stream request does. While MongoDB is away
// (and for NODE_TTL after it answers again) the snapshot's liveness is frozen: node TTLs count
// from when it was last read, so the nodes alive then keep their viewers. An explainer that
// counted from now would call every node stale_heartbeat while routing still sends viewers to
// them. Here a snapshot loaded from the store is frozen as the snapshot source freezes it, and
// the explainer's answer is compared with selectNode's under the stream request's clock.

import type { FastifyPluginAsync } from 'fastify'
import t from 'tap'
import { createPolicy } from '../../../src/balancing/policies.js'
import { selectNode } from '../../../src/balancing/select-node.js'
import { seedDemoData } from '../../../src/demo/seed.js'
import type { GeoAnswer } from '../../../src/geo/resolver-client.js'
import { registerRouteExplain, type RouteExplainDeps } from '../../../src/handlers/admin/route-explain.js'
import { errorPlugin } from '../../../src/http/error-plugin.js'
import { loadRoutingSnapshot } from '../../../src/routing/routing-snapshot.js'
import { buildApp } from '../../../src/server.js'
import { startTestStore } from '../../helpers/store.js'
import { markDemoNodesAlive } from '../../helpers/system.js'

const HEARD = Date.UTC(2026, 0, 1, 12)
const NODE_TTL_MS = 15_000
const store = await startTestStore(t)
await seedDemoData(store.collections)
await markDemoNodesAlive(store, new Date(HEARD))
const snapshot = await loadRoutingSnapshot(store.collections, HEARD)
const policy = createPolicy('rendezvous')
let clock = HEARD
const moscow: GeoAnswer = { location: { country_code: 'RU', region_iso: 'RU-MOW', city: 'Moscow', coordinates: [55.75, 37.62] }, source: 'resolver' }

// The explainer alone, with the parts beside the point here given as objects: any token may
// read, and every address is in Moscow.
const deps: RouteExplainDeps = {
  auth: { authorize: async () => ({ owner_type: 'admin', owner_id: 'ops', expires_at: null, token_id: 'a'.repeat(64) }) },
  geo: { locate: async () => moscow },
  routing: { current: () => snapshot },
  servers: store.collections.servers,
  accounts: store.collections.accounts,
  tariffs: store.collections.tariffs,
  policy,
  nodeTtlMs: NODE_TTL_MS,
  pathways: 3,
  now: () => clock
}
const explainer: FastifyPluginAsync = async (app) => {
  await app.register(errorPlugin)
  registerRouteExplain(app, deps)
}
const app = await buildApp(explainer, {})
t.teardown(() => app.close())

async function explain (camera: string): Promise<any> {
  const answer = await app.inject({ url: `/api/v1/route?ip=77.88.8.8&server=UIN-DEMO-1&camera=${camera}`, headers: { authorization: 'Bearer ops-token' } })
  t.equal(answer.statusCode, 200, answer.body)
  return answer.json()
}

/** What the stream request chooses: TTLs measured from the freeze while there is one. */
function routed (camera: string): string | null {
  const selection = selectNode(snapshot.nodes, { partner: 'demo', group: 'ru-central', pattern: 'streaming', format: 'flv', key: `UIN-DEMO-1/${camera}` },
    { policy, nowMs: snapshot.livenessFrozenAt ?? clock, nodeTtlMs: NODE_TTL_MS })
  return selection?.node._id ?? null
}

t.test('with liveness frozen, the explainer chooses as routing does, and calls no node stale', async (t) => {
  snapshot.livenessFrozenAt = HEARD
  clock = HEARD + 10 * NODE_TTL_MS
  for (const camera of ['cam-1', 'cam-2', 'cam-3', 'cam-4']) {
    const body = await explain(camera)
    t.not(routed(camera), null, 'routing still has a node')
    t.equal(body.chosen?.node ?? null, routed(camera), `the same node for ${camera}`)
    t.notOk(body.candidates.some((c: { reason: string }) => c.reason === 'stale_heartbeat'), 'no node called stale')
  }
})

t.test('thawed, the same nodes are stale for both', async (t) => {
  delete snapshot.livenessFrozenAt
  clock = HEARD + 10 * NODE_TTL_MS
  const body = await explain('cam-1')
  t.equal(routed('cam-1'), null)
  t.equal(body.chosen, null)
  t.ok(body.candidates.length > 0)
  t.ok(body.candidates.every((c: { reason: string }) => c.reason === 'stale_heartbeat'), 'every node stale for both')
})
