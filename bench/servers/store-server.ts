// A store the gateway under test reads, in a process of its own that the runner keeps off the
// gateway's core: the embedded store with the demo data, plus BENCH_EXTRA_NODES extra nodes
// (default 0), every node kept alive by a heartbeat, the realistic mixes' video server, and
// BENCH_STORE_TOKENS bench tokens (default 0) for the auth-server that reads this store, and,
// with BENCH_WEBHOOK_URL, that URL as every partner's session-event webhook (point it at a
// receiver that never answers to measure a black-holed one: docs/performance.md).
// Prints `BENCH_READY {storeUrl, database, …}`.
//
// env: BENCH_DATABASE, BENCH_EXTRA_NODES, BENCH_STORE_TOKENS, BENCH_WEBHOOK_URL.

import { startEmbeddedStore } from '../../src/store/embedded.js'
import { connectStore, ensureIndexes, type Store } from '../../src/store/mongo.js'
import { seedDemoData } from '../../src/demo/seed.js'
import { benchNodeDocs, benchServerDoc, benchTokenDocs } from './bench-data.js'
import { announceReady, closeOnShutdown, failStart, type Closer } from './lifecycle.js'

const NAME = 'bench store'
const HEARTBEAT_MS = 5000
// The embedded store inserts one by one at a cost that grows with the collection.
const INSERT_BATCH = 1000

const closers: Closer[] = []
const shutdown = closeOnShutdown(closers, NAME)

function count (name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got ${raw}`)
  return value
}

async function keepNodesAlive (store: Store): Promise<void> {
  await store.collections.nodes.updateMany({}, { $set: { last_seen: new Date() } })
}

/** One heartbeat after another, never two at once: on the embedded store one can take seconds. */
function startHeartbeat (store: Store): () => void {
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const beat = (): void => {
    keepNodesAlive(store)
      .catch((err: unknown) => process.stderr.write(`${NAME}: heartbeat failed: ${(err as Error).message}\n`))
      .finally(() => { if (!stopped) timer = setTimeout(beat, HEARTBEAT_MS) })
  }
  timer = setTimeout(beat, HEARTBEAT_MS)
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}

async function main (): Promise<void> {
  const extraNodes = count('BENCH_EXTRA_NODES', 0)
  const tokens = count('BENCH_STORE_TOKENS', 0)
  const database = process.env.BENCH_DATABASE ?? 'geogate_bench'
  const started = Date.now()
  const embedded = await startEmbeddedStore({ host: '127.0.0.1', port: 0, database, startTimeoutMs: 30_000 })
  closers.push(embedded.stop)
  const store = await connectStore({ url: embedded.url, database, appName: 'geogate-bench-store' })
  closers.push(store.close)
  await ensureIndexes(store.collections)
  await seedDemoData(store.collections)
  const nodes = benchNodeDocs(extraNodes, new Date())
  for (let from = 0; from < nodes.length; from += INSERT_BATCH) {
    await store.collections.nodes.insertMany(nodes.slice(from, from + INSERT_BATCH), { ordered: false })
  }
  await store.collections.servers.insertOne(benchServerDoc())
  for (let from = 0; from < tokens; from += INSERT_BATCH) {
    await store.collections.tokens.insertMany(benchTokenDocs(from, Math.min(tokens, from + INSERT_BATCH)), { ordered: false })
  }
  const webhook = process.env.BENCH_WEBHOOK_URL
  if (webhook !== undefined && webhook !== '') {
    await store.collections.partners.updateMany({}, { $set: { webhooks: [{ url: webhook, secret: 'bench-webhook-secret-0123456789abcdef' }] } })
  }
  await keepNodesAlive(store)
  closers.push(startHeartbeat(store))
  announceReady({ storeUrl: embedded.url, database, extraNodes, tokens, seededMs: Date.now() - started })
}

main().catch((err: unknown) => failStart(NAME, err, shutdown))
