import { startEmbeddedStore } from '/work/main/src/store/embedded.js'
import { connectStore, ensureIndexes } from '/work/main/src/store/mongo.js'
const database = 'probe'
const embedded = await startEmbeddedStore({ database, startTimeoutMs: 30_000 })
const store = await connectStore({ url: embedded.url, database, appName: 'probe' })
await ensureIndexes(store.collections)
const nonces = store.collections.serviceNonces
let n = 0
for (const size of [1000, 5000, 10000, 20000]) {
  while (n < size) { await nonces.insertMany(Array.from({ length: 500 }, () => ({ _id: `x:${n++}`, expires_at: new Date(Date.now() + 60000) })) as never, { ordered: false }) }
  let t = performance.now()
  for (let i = 0; i < 200; i++) await nonces.insertOne({ _id: `y:${size}:${i}`, expires_at: new Date() } as never)
  const ins = (performance.now() - t) / 200
  t = performance.now()
  for (let i = 0; i < 200; i++) await nonces.findOne({ _id: `x:${(i * 7919) % size}` } as never)
  const find = (performance.now() - t) / 200
  t = performance.now()
  await Promise.all(Array.from({ length: 200 }, (_, i) => nonces.insertOne({ _id: `z:${size}:${i}`, expires_at: new Date() } as never)))
  const par = (performance.now() - t) / 200
  t = performance.now()
  await nonces.insertMany(Array.from({ length: 200 }, (_, i) => ({ _id: `w:${size}:${i}`, expires_at: new Date() })) as never, { ordered: false })
  const many = (performance.now() - t) / 200
  console.log(size, 'insertOne ms', ins.toFixed(3), 'parallel', par.toFixed(3), 'insertMany per doc', many.toFixed(3), 'findOne _id', find.toFixed(3))
}
await store.close(); await embedded.stop()
