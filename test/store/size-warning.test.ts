import t from 'tap'
import { oversizedCollections, warnWhenEmbeddedStoreOutgrown } from '../../src/store/size-warning.js'
import { startTestStore } from '../helpers/store.js'

const store = await startTestStore(t)
const server = (n: number) => ({ _id: `UIN-${n}`, partner: 'p', owner: 'o', dc: 'd', online: true, cameras: {} })

t.test('a request-path collection past the limit is warned about once', async (t) => {
  const lines: string[] = []
  await store.collections.servers.insertMany(Array.from({ length: 5 }, (_, i) => server(i)))
  t.same(await oversizedCollections(store.collections, 5), [], 'at the limit: nothing')
  const stop = warnWhenEmbeddedStoreOutgrown(store.collections, (line) => lines.push(line), { limit: 5, intervalMs: 20 })
  t.teardown(stop)
  await new Promise((resolve) => setTimeout(resolve, 60))
  t.same(lines, [])
  await store.collections.servers.insertOne(server(5))
  t.same(await oversizedCollections(store.collections, 5), [{ name: 'servers', documents: 6 }])
  for (let waited = 0; waited < 5000 && lines.length === 0; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20))
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(lines.length, 1, 'one warning, though checked again and again')
  t.match(lines[0], /servers collection holds 6 documents, past 5.*MONGODB_URL/)
})
