// A MongoDB for a test: the one at MONGODB_URL when set (each test in a database of its own),
// else a fresh embedded store. Closed in teardown.

import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import { startEmbeddedStore } from '../../src/store/embedded.js'
import { connectStore, ensureIndexes, type Store } from '../../src/store/mongo.js'

export interface TestStore extends Store {
  url: string
  database: string
}

export async function startTestStore (t: Test): Promise<TestStore> {
  const database = `geogate_test_${randomBytes(4).toString('hex')}`
  let url = process.env.MONGODB_URL
  if (url === undefined || url === '') {
    const embedded = await startEmbeddedStore({ database })
    t.teardown(() => embedded.stop())
    url = embedded.url
  }
  const store = await connectStore({ url, database, monitorCommands: true })
  t.teardown(async () => {
    if (process.env.MONGODB_URL !== undefined && process.env.MONGODB_URL !== '') {
      await store.db.dropDatabase().catch(() => {})
    }
    await store.close()
  })
  await ensureIndexes(store.collections)
  return { ...store, url, database }
}
