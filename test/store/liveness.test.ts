// Heartbeats applied to a loaded node snapshot in place: last_seen, load and reported status
// of the nodes heard from, in more than one batch and slice, and nothing else (the admin's
// draining is not a heartbeat's).

import t from 'tap'
import { applyLiveness, loadRoutingSnapshot } from '../../src/routing/routing-snapshot.js'
import { demoGeoGroups, streamingNode } from '../../src/demo/demo-data.js'
import { startTestStore } from '../helpers/store.js'

const store = await startTestStore(t)
const NODES = 1200
await store.collections.geoGroups.insertMany(demoGeoGroups)
await store.collections.nodes.insertMany(Array.from({ length: NODES }, (_, i) => streamingNode({
  _id: `n${i}`,
  host: `n${i}.nodes.geogate.test`,
  group: 'ru-central',
  weight: 1,
  last_seen: i === 0 ? null : new Date(1_000_000)
})))

t.test('heartbeats since a moment are copied into the snapshot, batch after batch', async (t) => {
  const snapshot = await loadRoutingSnapshot(store.collections, Date.now())
  const doc = (id: string) => snapshot.nodes.nodesById.get(id)?.doc
  const heard = new Date(2_000_000)
  // Every node but the last heartbeats; n0 for the first time, n1 also with a new load and
  // reporting itself draining. n2's admin draining changes behind the admin API's back: that
  // waits for a full reload.
  await store.collections.nodes.updateMany({ _id: { $ne: `n${NODES - 1}` } }, { $set: { last_seen: heard } })
  await store.collections.nodes.updateOne({ _id: 'n1' }, { $set: { load: { sessions: 7, mbps: 12.5, cpu: 0.25 }, reported_status: 'draining' } })
  await store.collections.nodes.updateOne({ _id: 'n2' }, { $set: { draining: true } })
  const version = snapshot.livenessVersion
  // Requests are routed between slices: record how many heartbeats each turn of the event
  // loop saw applied.
  const seen = new Set<number>()
  let watching = true
  const heardFrom = (): number => [...snapshot.nodes.nodesById.values()].filter((n) => n.doc.last_seen?.getTime() === heard.getTime()).length
  const watch = (): void => { seen.add(heardFrom()); if (watching) setImmediate(watch) }
  watch()
  const applied = await applyLiveness(store.collections, snapshot, new Date(1_500_000))
  watching = false
  t.equal(applied, NODES - 1, 'more nodes than one batch holds')
  t.ok([...seen].some((n) => n > 0 && n < NODES - 1), 'a turn of the event loop came between slices')
  t.equal(snapshot.livenessVersion, version + 1, 'one new version, at the end')
  const after = snapshot.livenessVersion
  t.same(doc('n0')?.last_seen, heard, 'a first heartbeat')
  t.same(doc('n1')?.last_seen, heard)
  t.same(doc('n1')?.load, { sessions: 7, mbps: 12.5, cpu: 0.25 })
  t.equal(doc('n1')?.reported_status, 'draining')
  t.equal(doc('n1')?.draining, false, 'the admin\'s draining is left alone')
  t.same(doc('n2')?.load, { sessions: 0, mbps: 0, cpu: 0 })
  t.equal(doc('n2')?.draining, false, 'and is not read with liveness')
  t.same(doc(`n${NODES - 1}`)?.last_seen, new Date(1_000_000), 'a node not heard from is left alone')
  t.equal(await applyLiveness(store.collections, snapshot, new Date(2_500_000)), 0, 'nothing newer: nothing applied')
  t.equal(snapshot.livenessVersion, after, 'and no new version')
})
