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

/** Every kept collection as it is now: what a save writes. */
export interface KeptDocuments {
  saved: Saved
  count: number
}

/** Reads every kept collection, so that a caller can decide whether the read is worth writing. */
export async function readKept (collections: Collections): Promise<KeptDocuments> {
  const saved: Saved = {}
  let count = 0
  for (const name of KEPT) {
    const docs = await (collections[name].find({}) as unknown as { toArray: () => Promise<Document[]> }).toArray()
    saved[name] = docs
    count += docs.length
  }
  return { saved, count }
}

/** Writes what readKept read to the data directory, replacing the last save whole. */
export async function writeKept (dir: string, kept: KeptDocuments): Promise<void> {
  await mkdir(dir, { recursive: true })
  const file = dataFile(dir)
  const temporary = `${file}.${process.pid}.tmp`
  await writeFile(temporary, BSON.EJSON.stringify(kept.saved, { relaxed: false }))
  await rename(temporary, file)
}

/** Writes every kept collection to the data directory; resolves with how many documents. */
export async function saveStore (collections: Collections, dir: string): Promise<number> {
  const kept = await readKept(collections)
  await writeKept(dir, kept)
  return kept.count
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
