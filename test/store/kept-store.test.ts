// The embedded store kept in a data directory, as `geogate dev` runs it, in-process: a client on
// its one address never reads the empty store a restart begins with; commit() calls a write
// kept only when a save from the store that took it holds it; a store that dies once a shutdown
// has begun is not restarted; and the final save works after restarts.

import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { restoreStore } from '../../src/store/data-dir.js'
import { startKeptStore, type KeptStore } from '../../src/store/kept-store.js'
import { connectStore, ensureIndexes, type Store } from '../../src/store/mongo.js'

const PARTNERS = 50

async function until (what: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await what()) return true
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return false
}

async function start (t: Test, refillMs = 0): Promise<{ kept: KeptStore, client: Store, dir: string, lines: string[] }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'geogate-kept-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const lines: string[] = []
  let fills = 0
  const kept = await startKeptStore({
    dir,
    database: 'geogate',
    // Restored when there is a save, else seeded: like dev's own fill. A refill may take a
    // while (refillMs), as with more data: a client let in early would see the empty store.
    fill: async (collections) => {
      await ensureIndexes(collections)
      if (fills++ > 0) await new Promise((resolve) => setTimeout(resolve, refillMs))
      if (await restoreStore(collections, dir) !== undefined) return
      await collections.partners.insertMany(Array.from({ length: PARTNERS }, (_, i) => ({ _id: `seeded-${i}`, name: `Seeded ${i}`, pattern_fallbacks: {} })))
    },
    log: (line) => lines.push(line)
  })
  t.teardown(() => kept.stop())
  const client = await connectStore({ url: kept.url, database: 'geogate', serverSelectionTimeoutMs: 5000 })
  t.teardown(() => client.close())
  return { kept, client, dir, lines }
}

async function killAndAwaitRestart (kept: KeptStore, lines: string[]): Promise<boolean> {
  const pid = kept.pid()
  if (pid === undefined) return false
  process.kill(pid, 'SIGKILL')
  return await until(() => lines.some((line) => line.startsWith('embedded store restarted')) && kept.pid() !== pid, 20_000)
}

t.test('a client on the kept address never reads a restarted store before its data is back', async (t) => {
  const { kept, client, lines } = await start(t, 1000)
  const counts: number[] = []
  const reading = { on: true }
  const readers = Array.from({ length: 4 }, async () => {
    while (reading.on) {
      try {
        counts.push(await client.collections.partners.countDocuments({}))
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    }
  })
  t.ok(await until(() => counts.length > 10, 10_000), 'reads go through')
  const before = counts.length
  t.ok(await killAndAwaitRestart(kept, lines), 'the store is restarted')
  t.ok(await until(() => counts.length > before + 10, 10_000), 'and reads go through again')
  reading.on = false
  await Promise.all(readers)
  t.same(counts.filter((n) => n !== PARTNERS), [], `every read (${counts.length}) saw all the data, none an empty store`)
  t.equal(kept.generation(), 2, 'one restart, one new generation')
})

t.test('commit: kept once saved from the store that took the write; refused when that store died first', async (t) => {
  const { kept, client, dir, lines } = await start(t)
  const file = path.join(dir, 'store.json')
  await client.collections.partners.insertOne({ _id: 'kept', name: 'Kept', pattern_fallbacks: {} })
  await kept.commit(kept.generation())
  t.match(await readFile(file, 'utf8'), /"kept"/, 'a committed write is in the data directory')

  await client.collections.partners.insertOne({ _id: 'lost', name: 'Lost', pattern_fallbacks: {} })
  const generation = kept.generation()
  t.ok(await killAndAwaitRestart(kept, lines), 'the store dies before the write is saved, and is restarted')
  await t.rejects(kept.commit(generation), /restarted/, 'the write cannot be called kept')
  t.equal(await client.collections.partners.countDocuments({ _id: 'kept' }), 1, 'the committed write is back')
  t.equal(await client.collections.partners.countDocuments({ _id: 'lost' }), 0, 'the refused one is not (its answer said so)')

  await client.collections.partners.insertOne({ _id: 'after', name: 'After', pattern_fallbacks: {} })
  await kept.commit(kept.generation())
  t.match(await readFile(file, 'utf8'), /"after"/, 'writes on the new store are kept again')
})

t.test('a store ended by a signal once a shutdown has begun is not restarted', async (t) => {
  const { kept, lines } = await start(t)
  const pid = kept.pid() ?? 0
  // A Ctrl-C reaches the store and dev alike; dev begins its shutdown while the store exits.
  process.kill(pid, 'SIGTERM')
  kept.beginStop()
  t.ok(await until(() => kept.generation() === 2, 10_000), 'the store\'s exit is seen')
  await kept.stop()
  t.notOk(lines.some((line) => /restarting/.test(line)), 'no restart')
  t.match(lines.at(-1), /stopped before the final save/, 'the shutdown says the last save is what is kept')
})

t.test('a store ended by a signal before dev begins its shutdown is given a moment, then not restarted', async (t) => {
  const { kept, lines } = await start(t)
  process.kill(kept.pid() ?? 0, 'SIGTERM')
  t.ok(await until(() => kept.generation() === 2, 10_000), 'the store\'s exit is seen first')
  kept.beginStop()
  await kept.stop()
  t.notOk(lines.some((line) => /restarting/.test(line)), 'no restart')
})

t.test('the final save works after restarts', async (t) => {
  const { kept, client, dir, lines } = await start(t)
  t.ok(await killAndAwaitRestart(kept, lines), 'restarted once')
  lines.length = 0
  t.ok(await killAndAwaitRestart(kept, lines), 'and twice')
  // A write no commit saved: only the final save keeps it.
  await client.collections.partners.insertOne({ _id: 'last', name: 'Last', pattern_fallbacks: {} })
  await client.close()
  await kept.stop()
  t.match(lines.at(-1), /^saved \d+ documents to /)
  t.match(await readFile(path.join(dir, 'store.json'), 'utf8'), /"last"/)
})
