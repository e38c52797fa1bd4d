// A refresh asked while a load is under way must not be answered by that load: it may have
// read the collections before the change the caller has just made. The caller gets the load
// after it, shared by everyone who asked meanwhile.

import t from 'tap'
import { seedDemoData } from '../../src/demo/seed.js'
import { createRoutingSnapshotSource } from '../../src/routing/routing-snapshot.js'
import { markDemoNodesAlive } from '../helpers/system.js'
import { startTestStore } from '../helpers/store.js'

t.test('a refresh asked during a load sees a change made before it was asked', async (t) => {
  const store = await startTestStore(t)
  await seedDemoData(store.collections)
  await markDemoNodesAlive(store)
  const source = createRoutingSnapshotSource({ collections: store.collections, refreshMs: 60_000, watch: false })
  t.teardown(() => source.close())
  await source.refresh()

  for (let round = 0; round < 20; round++) {
    const enabled = round % 2 === 1
    const under = source.refresh()
    await store.collections.nodes.updateOne({ _id: 'node-moscow-2' }, { $set: { enabled } })
    const view = await source.refresh()
    await under
    if (view.nodes.nodesById.get('node-moscow-2')?.doc.enabled !== enabled) {
      t.fail(`round ${round}: the view missed the change`)
      return
    }
  }
  t.pass('every view had the change made before it was asked')
})

t.test('everyone who asks during a load shares the one load after it', async (t) => {
  const store = await startTestStore(t)
  await seedDemoData(store.collections)
  const source = createRoutingSnapshotSource({ collections: store.collections, refreshMs: 60_000, watch: false })
  t.teardown(() => source.close())
  const under = source.refresh()
  const asked = source.refresh()
  t.not(asked, under, 'not the load under way')
  t.equal(source.refresh(), asked, 'one follow-up')
  await asked
  const later = source.refresh()
  t.not(later, asked, 'a refresh asked later loads anew')
  await later
})
