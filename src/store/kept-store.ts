// The embedded store as `geogate dev` runs it: its contents kept in the data directory, its
// process restarted when it dies, and its clients let in only while a store process with the
// data back answers. Clients reach it through the forwarder's address (store-forwarder.ts);
// each store process listens on a port of its own, and dev fills and saves it over a
// connection of its own to that port, so a restart's empty store is seen by nothing but the
// refill, and a save never reads through a connection to a store that has since been replaced.
//
// A write is kept once it is in the data directory, not once the store took it: the store is a
// process that a kill empties. So dev acknowledges an admin write only after commit(), which
// waits for a save that began after the write, read from the store process that took it
// (group-commit.ts shares one save among the writes that wait together). A save is the whole
// kept data, read and written to a file renamed over the last: one code path, the same file a
// restart reads, always whole. An append-only journal of each write would cost less per write
// as the data grows, but every admin route would have to describe its writes to it and the
// restart would replay them; a whole save cannot disagree with what the store held, and the
// group commit keeps its cost per save, not per write. Measured here (a save is mostly the
// store handing back every document, about 35 µs each): 10 ms for the demo data, 150 ms with
// 1,000 partners and 2,000 audit records beside it, 1 s at 15,000 documents. At 20 admin
// writes a second, once a save takes 50 ms or more the saves run back to back and each write
// waits for one or two: throughput holds at any size, the wait grows with the data (and every
// admin write adds an audit record to it).
//
// Durable against the store process dying, which is what happens to it; not against the machine
// losing power (the file is renamed into place, not fsynced).

import { dataFile, readKept, writeKept } from './data-dir.js'
import { startEmbeddedStore, type EmbeddedStore } from './embedded.js'
import { createGroupCommit } from './group-commit.js'
import { connectStore, type Collections, type Store } from './mongo.js'
import { startStoreForwarder } from './store-forwarder.js'

export interface KeptStoreOptions {
  dir: string
  database: string
  /** Where the forwarder and the store processes listen (default loopback). */
  host?: string
  /** Fills a new, empty store process: from the data directory's save, or afresh when it has none. */
  fill: (collections: Collections) => Promise<void>
  /** After a restarted store is filled and before any client reaches it. */
  beforeReopen?: (collections: Collections) => Promise<void>
  /** Once clients reach a restarted store. */
  onRestarted?: () => void
  log: (line: string) => void
}

export interface KeptStore {
  /** The address clients connect to, the same across restarts. */
  url: string
  /** The store process's id (of the one running now). */
  pid: () => number | undefined
  /** Which store process clients reach: bumped as soon as one is found dead. */
  generation: () => number
  /**
   * Resolves once a save that started after this call, read from the store process of
   * `generation`, is in the data directory: whatever that process had taken before the call is
   * kept. Rejects when that cannot be said: the process died, the save failed or took too long.
   */
  commit: (generation: number) => Promise<void>
  /** A shutdown has begun: a store process that dies from now on is not restarted. */
  beginStop: () => void
  /** Saves once more, then stops the forwarder and the store process. */
  stop: () => Promise<void>
}

interface Running {
  generation: number
  child: EmbeddedStore
  /** The connection of dev's own, straight to this store process's port. */
  direct: Store
}

/** The longest an acknowledgement waits for its save; past it the write is answered 503. */
const COMMIT_TIMEOUT_MS = 5000
/**
 * A store ended by SIGINT or SIGTERM most likely got a signal sent to dev's whole process group
 * (Ctrl-C, a supervisor stopping the group), which dev is about to handle as a shutdown: wait
 * this long before restarting the store.
 */
const GROUP_SIGNAL_GRACE_MS = 300

const portOf = (url: string): number => Number(new URL(url).port)
const messageOf = (err: unknown): string => (err as Error).message

export async function startKeptStore (options: KeptStoreOptions): Promise<KeptStore> {
  const { dir, database, log } = options
  const host = options.host ?? '127.0.0.1'
  let generation = 1
  let running: Running | undefined
  let stopping = false
  let restarting: Promise<void> = Promise.resolve()
  let wake = (): void => {}
  const stopped = new Promise<void>((resolve) => { wake = resolve })

  // A save reads from the store process running when it starts. One that finished reading
  // before that process died writes its file before the restart reads the file (the restart
  // waits for saves to end), so the file a restart reads holds every write a save acknowledged.
  const saves = createGroupCommit(async () => {
    const from = running
    if (from === undefined) throw new Error('the embedded store is restarting')
    const kept = await readKept(from.direct.collections)
    await writeKept(dir, kept)
    return { generation: from.generation, count: kept.count }
  })

  async function startFilled (fill: (collections: Collections) => Promise<void>): Promise<Omit<Running, 'generation'>> {
    const child = await startEmbeddedStore({ host, port: 0, database })
    try {
      const direct = await connectStore({ url: child.url, database, appName: 'geogate-dev-keeper', serverSelectionTimeoutMs: 2000 })
      try {
        await fill(direct.collections)
        return { child, direct }
      } catch (err) {
        await direct.close().catch(() => {})
        throw err
      }
    } catch (err) {
      await child.stop()
      throw err
    }
  }

  const first = await startFilled(options.fill)
  running = { generation, ...first }
  const forwarder = await startStoreForwarder(host).catch(async (err: unknown) => {
    await first.direct.close().catch(() => {})
    await first.child.stop()
    throw err
  })
  // The directory holds the store from the start: a restart before any edit restores it.
  await saves.commit().catch((err: unknown) => log(`saving to ${dataFile(dir)} failed: ${messageOf(err)}`))
  forwarder.forwardTo(portOf(first.child.url))
  watch(running)

  function watch (live: Running): void {
    void live.child.exited.then(({ code, signal }) => {
      if (running !== live) return
      // Before anything else: no save reads from it, no commit counts on it, no client waits on it.
      generation++
      running = undefined
      void live.direct.close().catch(() => {})
      if (stopping) {
        void forwarder.close()
        return
      }
      forwarder.hold()
      restarting = restart(code, signal)
    })
  }

  async function pause (ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([stopped, new Promise<void>((resolve) => { timer = setTimeout(resolve, ms) })])
    clearTimeout(timer)
  }

  async function restart (code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    // The store exits 130 or 143 when it handles SIGINT or SIGTERM itself.
    const cause = signal ?? (code === 130 ? 'SIGINT' : code === 143 ? 'SIGTERM' : `code ${code ?? '?'}`)
    if (cause === 'SIGINT' || cause === 'SIGTERM') await pause(GROUP_SIGNAL_GRACE_MS)
    if (stopping) return
    const began = performance.now()
    log(`the embedded store exited (${cause}); restarting it from the data directory`)
    await saves.idle()
    for (let attempt = 1; ; attempt++) {
      if (stopping) return
      try {
        const next = await startFilled(async (collections) => {
          await options.fill(collections)
          await options.beforeReopen?.(collections)
        })
        if (stopping) {
          await next.direct.close().catch(() => {})
          await next.child.stop()
          return
        }
        running = { generation, ...next }
        watch(running)
        forwarder.forwardTo(portOf(next.child.url))
        log(`embedded store restarted (pid ${next.child.pid ?? '?'}), clients let in ${Math.round(performance.now() - began)} ms after it was found dead`)
        options.onRestarted?.()
        return
      } catch (err) {
        log(`restarting the embedded store failed (attempt ${attempt}): ${messageOf(err)}`)
        await pause(Math.min(5000, 200 * attempt))
      }
    }
  }

  function beginStop (): void {
    stopping = true
    wake()
    // No store will come back: clients are refused at once rather than held until the end.
    if (running === undefined) void forwarder.close()
  }

  /** The last save, then everything closed: run once, however often stop is called. */
  async function finish (): Promise<void> {
    beginStop()
    await restarting
    const live = running
    const kept = `${dataFile(dir)} holds the last save (every acknowledged admin write)`
    try {
      if (live === undefined) throw new Error('no store')
      const saved = await saves.commit()
      log(`saved ${saved.count} documents to ${dataFile(dir)}`)
    } catch (err) {
      // A Ctrl-C stops the store along with dev, often before this save could read it.
      if (running !== live || live === undefined) log(`the embedded store stopped before the final save; ${kept}`)
      else log(`the final save failed (${messageOf(err)}); ${kept}`)
    }
    running = undefined
    await forwarder.close()
    if (live !== undefined) {
      await live.direct.close().catch(() => {})
      await live.child.stop()
    }
  }
  let finished: Promise<void> | undefined

  return {
    url: `mongodb://${host}:${forwarder.port}/${database}`,
    pid: () => running?.child.pid,
    generation: () => generation,
    async commit (of) {
      if (of !== generation || running === undefined) throw new Error('the embedded store restarted after the write began')
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no save within ${COMMIT_TIMEOUT_MS} ms`)), COMMIT_TIMEOUT_MS)
      })
      try {
        const saved = await Promise.race([saves.commit(), late])
        if (saved.generation !== of) throw new Error('the embedded store restarted before the save')
      } finally {
        clearTimeout(timer)
      }
    },
    beginStop,
    async stop () {
      finished ??= finish()
      await finished
    }
  }
}
