// A MaxMind DB file held in memory, plain (.mmdb) or gzipped (.mmdb.gz, as the geolite2-city
// package ships it), optionally reloaded when the file on disk is replaced. A reload reads and
// parses the whole new file before it swaps readers, and keeps the old reader when the new
// file does not load, so lookups never see a half-loaded database.

import { type Stats, unwatchFile, watchFile } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { gunzip } from 'node:zlib'
import { LRUCache } from 'lru-cache'
import { Reader, type Response } from 'maxmind'

const gunzipAsync = promisify(gunzip)

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
export async function readMmdb<T extends Response> (path: string, recordCacheMax = 10_000): Promise<Reader<T>> {
  let buffer = await readFile(path)
  if (buffer[0] === 0x1f && buffer[1] === 0x8b) buffer = await gunzipAsync(buffer)
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
