// The pace of a node's heartbeats, as a replica learns it from what it reads: in place with
// each liveness read, kept across full reloads, never shortened by a retried beat, and lengthened
// (never shortened) by a late one.

import t from 'tap'
import { nodeIneligibility } from '../../src/balancing/eligibility.js'
import { createHeartbeatPaces } from '../../src/routing/heartbeat-pace.js'
import { applyLiveness, loadRoutingSnapshot, type RoutingSnapshot } from '../../src/routing/routing-snapshot.js'
import { node, group } from '../balancing/fixtures.js'
import { startTestStore } from '../helpers/store.js'

const store = await startTestStore(t)
const { nodes } = store.collections
const T0 = Date.parse('2026-11-21T12:00:00Z')
const TTL = 15_000
await store.collections.geoGroups.insertOne(group('g1', 0, 0, { default: true }))
await nodes.insertOne(node('n1', { last_seen: new Date(T0) }))
const paces = createHeartbeatPaces({ refreshMs: 1000 })
let snapshot: RoutingSnapshot = await loadRoutingSnapshot(store.collections, T0, paces)

async function beatAt (ms: number): Promise<void> {
  await nodes.updateOne({ _id: 'n1' }, { $set: { last_seen: new Date(ms) } })
  await applyLiveness(store.collections, snapshot, new Date(ms - 1))
}

function staleAt (ms: number): boolean {
  const n1 = snapshot.nodes.nodesById.get('n1')
  if (n1 === undefined) throw new Error('n1 is not in the view')
  return nodeIneligibility(n1, { partner: 'demo', pattern: 'streaming', format: 'flv' }, ms, TTL) === 'stale_heartbeat'
}

t.test('one beat: NODE_TTL_S alone decides', async (t) => {
  t.equal(paces.paceOf('n1'), undefined)
  t.notOk(staleAt(T0 + TTL))
  t.ok(staleAt(T0 + TTL + 1))
})

t.test('beats every 3 s, read in place: out after two missed beats', async (t) => {
  await beatAt(T0 + 3000)
  await beatAt(T0 + 6000)
  t.equal(paces.paceOf('n1'), 3000)
  t.notOk(staleAt(T0 + 6000 + 6000))
  t.ok(staleAt(T0 + 6000 + 6001))
})

t.test('a full reload keeps the pace', async (t) => {
  snapshot = await loadRoutingSnapshot(store.collections, T0 + 7000, paces)
  t.equal(snapshot.nodes.nodesById.get('n1')?.staleAfterMs, 6000)
  t.ok(staleAt(T0 + 6000 + 6001))
})

t.test('a retried beat is no pace; a late beat lengthens it for two beats', async (t) => {
  await beatAt(T0 + 6300)
  t.equal(paces.paceOf('n1'), 3000, 'a beat 300 ms after the last is a retry')
  await beatAt(T0 + 9000)
  t.equal(paces.paceOf('n1'), 3000, 'measured from the beat before the retry')
  await beatAt(T0 + 17_000)
  t.equal(paces.paceOf('n1'), 8000, 'one late beat: detection slower, never faster')
  await beatAt(T0 + 20_000)
  t.equal(paces.paceOf('n1'), 8000)
  await beatAt(T0 + 23_000)
  t.equal(paces.paceOf('n1'), 3000, 'two beats on time: the pace again')
})

t.test('a node beating as often as the replica reads is not taken for dead between reads', async (t) => {
  const fast = createHeartbeatPaces({ refreshMs: 1000 })
  const view = await loadRoutingSnapshot(store.collections, T0, fast)
  const n1 = view.nodes.nodesById.get('n1')
  if (n1 === undefined) throw new Error('n1 is not in the view')
  for (const at of [T0 + 30_000, T0 + 31_000, T0 + 32_000]) {
    n1.doc.last_seen = new Date(at)
    fast.observe(n1)
  }
  t.equal(fast.paceOf('n1'), 1000)
  t.equal(n1.staleAfterMs, 3000, 'one pace, one refresh and a second of slack, not two paces')
})
