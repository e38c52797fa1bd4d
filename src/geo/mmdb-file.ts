// A MaxMind DB file held in memory, plain (.mmdb) or gzipped (.mmdb.gz, as the geolite2-city
// package ships it), optionally reloaded when the file on disk is replaced. A reload reads and
// parses the whole new file before it swaps readers, and keeps the old reader when the new
// file does not load, so lookups never see a half-loaded database.
//
// Unzipping the bundled GeoLite2 City (31 MB to 66 MB) takes about a second of CPU. So a
// gzipped file is unzipped once per process while any reader holds its bytes (`geogate dev`
// opens it twice: the resolver's database and the gateway's fallback share one copy), and
// the unzipped copy is kept under node_modules/.cache/geogate, named by the gzipped file's
// path, size, time and inode, for the next process: a restart, or each test file.

import { createHash } from 'node:crypto'
import { type Stats, unwatchFile, watchFile } from 'node:fs'
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { gunzip } from 'node:zlib'
import { LRUCache } from 'lru-cache'
import { Reader, type Response } from 'maxmind'
import { packageRoot } from '../package-root.js'

const gunzipAsync = promisify(gunzip)

/** Unzipped databases of this process, by the gzipped file's identity, while a reader holds one. */
const unzipped = new Map<string, WeakRef<Buffer>>()
const unzipping = new Map<string, Promise<Buffer>>()

function isGzip (buffer: Buffer): boolean {
  return buffer[0] === 0x1f && buffer[1] === 0x8b
}

/** Where the unzipped copy of a gzipped file is kept between processes; undefined: nowhere. */
function unzippedCopyPath (identity: string): string | undefined {
  try {
    const name = createHash('sha256').update(identity).digest('hex').slice(0, 32)
    return path.join(packageRoot(), 'node_modules', '.cache', 'geogate', `${name}.mmdb`)
  } catch {
    return undefined
  }
}

async function readUnzipped (file: string, gzipped: Buffer, identity: string): Promise<Buffer> {
  const copy = unzippedCopyPath(identity)
  if (copy !== undefined) {
    try {
      const kept = await readFile(copy)
      // A copy cut short, or anything else, fails the reader's check and is made anew.
      if (!isGzip(kept)) {
        void new Reader(kept)
        return kept
      }
    } catch {
      // No copy yet, or a bad one: unzip.
    }
  }
  const bytes = await gunzipAsync(gzipped)
  if (copy !== undefined) {
    // Written whole under another name, then renamed: a process reading it never sees half.
    const temporary = `${copy}.${process.pid}.tmp`
    await mkdir(path.dirname(copy), { recursive: true })
      .then(async () => await writeFile(temporary, bytes))
      .then(async () => await rename(temporary, copy))
      .catch(() => { /* A read-only install keeps unzipping at each start. */ })
  }
  return bytes
}

/** The database's bytes, unzipped when the file is gzipped (once per process and file version). */
async function readMmdbBytes (file: string): Promise<Buffer> {
  const raw = await readFile(file)
  if (!isGzip(raw)) return raw
  const info = await stat(file)
  const identity = `${path.resolve(file)}:${info.size}:${info.mtimeMs}:${info.ino}`
  const held = unzipped.get(identity)?.deref()
  if (held !== undefined) return held
  let pending = unzipping.get(identity)
  if (pending === undefined) {
    pending = readUnzipped(file, raw, identity).then((bytes) => {
      unzipped.set(identity, new WeakRef(bytes))
      return bytes
    }).finally(() => unzipping.delete(identity))
    unzipping.set(identity, pending)
  }
  return await pending
}

export interface ReloadLogger {
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
}

export type ReloadListener = (err?: Error) => void

export interface MmdbFileOptions {
  /** Reload when the file is replaced (checked every watchIntervalMs). */
  watch?: boolean
  /** How often (ms) to check the file when watching; default 1000. */
  watchIntervalMs?: number
  /** Called after every reload attempt: no argument on success, the error when the old file is kept. */
  onReload?: ReloadListener
  logger?: ReloadLogger
  /** Decoded records kept per reader, so one network's answers share one object; default 10,000. */
  recordCacheMax?: number
}

export interface MmdbFile<T extends Response> {
  /** The reader in use now; a reload replaces it. */
  readonly reader: Reader<T>
  addReloadListener: (listener: ReloadListener) => () => void
  close: () => void
}

/** Reads a .mmdb or gzipped .mmdb file fully into a reader; rejects when it is not one. */
export async function readMmdb<T extends Response> (file: string, recordCacheMax = 10_000): Promise<Reader<T>> {
  const buffer = await readMmdbBytes(file)
  return new Reader<T>(buffer, { cache: new LRUCache<string | number, object>({ max: recordCacheMax }) })
}

function sameFile (a: Stats, b: Stats): boolean {
  return a.mtimeMs === b.mtimeMs && a.ino === b.ino && a.size === b.size
}

export async function openMmdbFile<T extends Response> (path: string, options: MmdbFileOptions = {}): Promise<MmdbFile<T>> {
  const { logger, recordCacheMax } = options
  let reader = await readMmdb<T>(path, recordCacheMax)
  const listeners = new Set<ReloadListener>()
  if (options.onReload !== undefined) listeners.add(options.onReload)
  let closed = false
  let loading = false
  let again = false

  function emit (err?: Error): void {
    for (const listener of listeners) {
      try {
        listener(err)
      } catch (listenerError) {
        logger?.warn({ path, err: listenerError }, 'MaxMind reload listener failed')
      }
    }
  }

  async function reload (): Promise<void> {
    if (loading) {
      again = true
      return
    }
    loading = true
    try {
      const next = await readMmdb<T>(path, recordCacheMax)
      if (closed) return
      reader = next
      logger?.info({ path, build: next.metadata.buildEpoch }, 'MaxMind database reloaded')
      emit()
    } catch (error) {
      if (closed) return
      const err = error instanceof Error ? error : new Error(String(error))
      logger?.warn({ path, err }, 'MaxMind database reload failed; keeping the loaded one')
      emit(err)
    } finally {
      loading = false
      if (again && !closed) {
        again = false
        scheduleReload()
      }
    }
  }

  function onChange (current: Stats, previous: Stats): void {
    if (closed || sameFile(current, previous)) return
    // A file that is gone (all-zero stats) is mid-replacement or removed: keep what we have.
    if (current.nlink === 0 && current.mtimeMs === 0) return
    scheduleReload()
  }

  function scheduleReload (): void {
    // reload handles its own errors; this only guards against a bug there.
    reload().catch((err: unknown) => logger?.warn({ path, err }, 'MaxMind database reload crashed'))
  }

  if (options.watch === true) {
    watchFile(path, { interval: options.watchIntervalMs ?? 1000, persistent: false }, onChange)
  }

  return {
    get reader () { return reader },
    addReloadListener (listener: ReloadListener): () => void {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    close (): void {
      if (closed) return
      closed = true
      listeners.clear()
      if (options.watch === true) unwatchFile(path, onChange)
    }
  }
}
