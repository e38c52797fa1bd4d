import { startEmbeddedStore } from '/work/main/src/store/embedded.js'
import { connectStore, ensureIndexes } from '/work/main/src/store/mongo.js'
const database = 'probe'
const embedded = await startEmbeddedStore({ database, startTimeoutMs: 30_000 })
const store = await connectStore({ url: embedded.url, database, appName: 'probe' })
await ensureIndexes(store.collections)
const big = store.db.collection('big_noindex')
const small = store.db.collection('small')
const nonces = store.collections.serviceNonces
for (const size of [1000, 3000]) {
  const have = await big.countDocuments()
  for (let n = have; n < size; n += 500) await big.insertMany(Array.from({ length: 500 }, (_, i) => ({ _id: `x:${n + i}`, expires_at: new Date() })) as never)
  let t = performance.now()
  for (let i = 0; i < 50; i++) await big.insertOne({ _id: `y:${size}:${i}`, expires_at: new Date() } as never)
  const bigIns = (performance.now() - t) / 50
  t = performance.now()
  for (let i = 0; i < 50; i++) await small.insertOne({ _id: `y:${size}:${i}` } as never)
  const smallIns = (performance.now() - t) / 50
  t = performance.now()
  for (let i = 0; i < 50; i++) await big.updateOne({ _id: `x:${i}` } as never, { $set: { a: i } })
  const upd = (performance.now() - t) / 50
  console.log(size, 'big (no index) insertOne', bigIns.toFixed(2), 'small insertOne', smallIns.toFixed(2), 'big updateOne by _id', upd.toFixed(2))
}
const have = await nonces.countDocuments()
for (let n = have; n < 3000; n += 500) await nonces.insertMany(Array.from({ length: 500 }, (_, i) => ({ _id: `x:${n + i}`, expires_at: new Date() })) as never)
let t = performance.now()
for (let i = 0; i < 20; i++) await nonces.insertOne({ _id: `q:${i}`, expires_at: new Date() } as never)
console.log('nonces (expires_at TTL index) at 3000 insertOne', ((performance.now() - t) / 20).toFixed(2))
t = performance.now()
for (let i = 0; i < 20; i++) await small.insertOne({ _id: `qq:${i}` } as never)
console.log('small insertOne now', ((performance.now() - t) / 20).toFixed(2))
await store.close(); await embedded.stop()
