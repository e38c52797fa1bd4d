// What one request-path lookup (and one write) costs on the embedded store (the one `npm start` runs) as a
// collection grows: findOne by _id, as the auth-server looks up a token and the gateway a video
// server, at 1,000, 10,000 and 50,000 documents. The store scans for every findOne (docs/design.md
// section 8), so the cost grows with the collection; MongoDB's indexes keep it flat. Run alone:
//   node --import tsx bench/store-lookup.bench.ts
// or call runStoreLookupBench(). Prints/returns ms per lookup; asserts nothing.

import { pathToFileURL } from 'node:url'
import { hashToken } from '../src/auth/token-hash.js'
import { startEmbeddedStore } from '../src/store/embedded.js'
import { connectStore, ensureIndexes } from '../src/store/mongo.js'
import type { TokenDoc } from '../src/store/documents.js'

export interface StoreLookupBenchResult {
  sizes: Array<{ documents: number, msPerLookup: number, msPerInsert: number, insertS: number }>
}

export const STORE_LOOKUP_SIZES = [1000, 10_000, 50_000] as const
const LOOKUPS = 200
/** insertOne calls timed at each size (at most): each is a write command, as a session's is. */
const INSERTS = 10
// The embedded store pays for each write command in proportion to (more than) the size of the
// collection, whatever the command carries: large batches fill 50,000 documents in a few
// commands instead of hundreds.
const BATCH = 10_000

function tokenDoc (n: number): TokenDoc {
  return { _id: hashToken(`lookup-token-${n}`), owner_type: 'account', owner_id: `acct-${n % 100}`, grants: [{ object_type: 'camera', object_id: 'UIN-DEMO-1/*', rights: ['view'] }], expires_at: null }
}

export async function runStoreLookupBench (sizes: readonly number[] = STORE_LOOKUP_SIZES): Promise<StoreLookupBenchResult> {
  const database = 'geogate_store_lookup'
  const embedded = await startEmbeddedStore({ database, startTimeoutMs: 30_000 })
  const store = await connectStore({ url: embedded.url, database, appName: 'geogate-store-lookup-bench' })
  try {
    await ensureIndexes(store.collections)
    const tokens = store.collections.tokens
    const result: StoreLookupBenchResult = { sizes: [] }
    let have = 0
    for (const size of sizes) {
      const started = performance.now()
      while (have < size) {
        const to = Math.min(size, have + BATCH)
        await tokens.insertMany(Array.from({ length: to - have }, (_, i) => tokenDoc(have + i)), { ordered: false })
        have = to
      }
      const insertS = (performance.now() - started) / 1000
      // One after another, as a quiet store answers them: the cost of one, not a queue.
      for (let i = 0; i < 20; i++) await tokens.findOne({ _id: tokenDoc((i * 7919) % size)._id })
      const from = performance.now()
      for (let i = 0; i < LOOKUPS; i++) await tokens.findOne({ _id: tokenDoc((i * 7919) % size)._id })
      const msPerLookup = (performance.now() - from) / LOOKUPS
      // Up to INSERTS, but no more than a few seconds' worth: one can take seconds at 50,000.
      const writesFrom = performance.now()
      let inserts = 0
      while (inserts < INSERTS && (inserts === 0 || performance.now() - writesFrom < 3000)) {
        await tokens.insertOne(tokenDoc(have++))
        inserts++
      }
      const msPerInsert = (performance.now() - writesFrom) / inserts
      result.sizes.push({ documents: size, msPerLookup: Math.round(msPerLookup * 100) / 100, msPerInsert: Math.round(msPerInsert * 10) / 10, insertS: Math.round(insertS * 10) / 10 })
    }
    return result
  } finally {
    await store.close()
    await embedded.stop()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // BENCH_STORE_LOOKUP_SIZES=1000,10000 picks the sizes (a quick run measures the smallest alone).
  const given = (process.env.BENCH_STORE_LOOKUP_SIZES ?? '').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0)
  runStoreLookupBench(given.length > 0 ? given : STORE_LOOKUP_SIZES).then((result) => { process.stdout.write(JSON.stringify(result, null, 2) + '\n') }, (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
    process.exitCode = 1
  })
}
