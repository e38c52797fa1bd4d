// What `geogate dev` keeps of the embedded store, which itself keeps nothing on disk: every
// collection an admin edits, as Extended JSON in one file under the data directory, written
// whole to a temporary file and renamed over the last, so a crash mid-write never leaves half
// a file. Plays in flight (sessions and their slots) are not kept: they end with the process.

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { BSON, type Document } from 'mongodb'
import type { Collections } from './mongo.js'

const FILE = 'store.json'
const KEPT = ['nodes', 'geoGroups', 'partners', 'servers', 'accounts', 'tariffs', 'tokens', 'audit'] as const
type Kept = typeof KEPT[number]
type Saved = Partial<Record<Kept, Document[]>>

export function dataFile (dir: string): string {
  return path.join(dir, FILE)
}

/** Writes every kept collection to the data directory; resolves with how many documents. */
export async function saveStore (collections: Collections, dir: string): Promise<number> {
  const saved: Saved = {}
  let count = 0
  for (const name of KEPT) {
    const docs = await (collections[name].find({}) as unknown as { toArray: () => Promise<Document[]> }).toArray()
    saved[name] = docs
    count += docs.length
  }
  await mkdir(dir, { recursive: true })
  const file = dataFile(dir)
  const temporary = `${file}.${process.pid}.tmp`
  await writeFile(temporary, BSON.EJSON.stringify(saved, { relaxed: false }))
  await rename(temporary, file)
  return count
}

/**
 * Loads the data directory's file into the store, replacing what the kept collections hold (so
 * a refill cut short can be run again); undefined when there is none (a new directory), else
 * how many documents were restored.
 */
export async function restoreStore (collections: Collections, dir: string): Promise<number | undefined> {
  let text: string
  try {
    text = await readFile(dataFile(dir), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  const saved = BSON.EJSON.parse(text, { relaxed: false }) as Saved
  let count = 0
  for (const name of KEPT) {
    const docs = saved[name] ?? []
    const collection = collections[name] as unknown as {
      deleteMany: (filter: Document) => Promise<unknown>
      insertMany: (docs: Document[]) => Promise<unknown>
    }
    await collection.deleteMany({})
    if (docs.length > 0) await collection.insertMany(docs)
    count += docs.length
  }
  return count
}

export interface Saver {
  /** Saves soon: writes close together share one save. */
  schedule: () => void
  /** Saves now (and waits for a save under way). */
  flush: () => Promise<void>
  /** Holds saves back (while the store is being refilled); resume runs one if any was asked. */
  pause: () => void
  resume: () => void
}

export function createSaver (save: () => Promise<void>, debounceMs: number, onError: (err: unknown) => void): Saver {
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> = Promise.resolve()
  let paused = false
  let wanted = false
  const run = (): Promise<void> => {
    wanted = false
    running = running.then(save).catch(onError)
    return running
  }
  return {
    schedule () {
      wanted = true
      if (paused || timer !== undefined) return
      timer = setTimeout(() => { timer = undefined; if (!paused) void run() }, debounceMs)
      timer.unref()
    },
    async flush () {
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
      if (!paused) await run()
      else await running
    },
    pause () { paused = true },
    resume () {
      paused = false
      if (wanted) void run()
    }
  }
}
