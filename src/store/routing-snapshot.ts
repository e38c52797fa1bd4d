// The in-memory view of nodes, geo groups and partners that every request routes with. It is
// reloaded from MongoDB on an interval, and at once on a change where the server has change
// streams. When MongoDB is away the last good view keeps serving; the driver reconnects by
// itself and the next reload succeeds.

import type { ChangeStream } from 'mongodb'
import { buildSnapshot, type Snapshot } from '../balancing/snapshot.js'
import { createGeoGroupIndex, type GeoGroupIndex } from '../geo/match-geo-group.js'
import type { Collections } from './mongo.js'

export interface RoutingSnapshot {
  nodes: Snapshot
  geo: GeoGroupIndex
  loadedAt: number
}

export interface RoutingSnapshotSource {
  /** The newest view; undefined until the first load succeeded. */
  current: () => RoutingSnapshot | undefined
  /** Loads now, replacing the current view; rejects if MongoDB fails. */
  refresh: () => Promise<RoutingSnapshot>
  /** Whether the last attempt to load succeeded. */
  healthy: () => boolean
  /** 'change-stream' once the server accepted a watch, else 'polling'. */
  mode: () => 'change-stream' | 'polling'
  close: () => Promise<void>
}

export interface RoutingSnapshotOptions {
  collections: Pick<Collections, 'nodes' | 'geoGroups' | 'partners'>
  refreshMs: number
  /** Watch for changes where MongoDB supports change streams (default true). */
  watch?: boolean
  now?: () => number
  onError?: (err: unknown) => void
}

/** Changes arriving closer together than this share one reload (heartbeats come in floods). */
const CHANGE_DEBOUNCE_MS = 100

export async function loadRoutingSnapshot (collections: RoutingSnapshotOptions['collections'], nowMs: number): Promise<RoutingSnapshot> {
  const [nodes, groups, partners] = await Promise.all([
    collections.nodes.find({}).toArray(),
    collections.geoGroups.find({}).toArray(),
    collections.partners.find({}).toArray()
  ])
  return { nodes: buildSnapshot({ nodes, groups, partners }), geo: createGeoGroupIndex(groups), loadedAt: nowMs }
}

export function createRoutingSnapshotSource (options: RoutingSnapshotOptions): RoutingSnapshotSource {
  const now = options.now ?? Date.now
  let snapshot: RoutingSnapshot | undefined
  let ok = false
  let loading: Promise<RoutingSnapshot> | undefined
  let again = false
  let closed = false
  const streams: ChangeStream[] = []
  let debounce: NodeJS.Timeout | undefined

  function refresh (): Promise<RoutingSnapshot> {
    if (loading !== undefined) {
      // A change during a load may be missed by it: load once more afterwards.
      again = true
      return loading
    }
    loading = loadRoutingSnapshot(options.collections, now()).then(
      (next) => { snapshot = next; ok = true; return next },
      (err: unknown) => { ok = false; throw err }
    ).finally(() => {
      loading = undefined
      if (again && !closed) {
        again = false
        refresh().catch((err: unknown) => options.onError?.(err))
      }
    })
    return loading
  }

  function onChange (): void {
    if (debounce !== undefined || closed) return
    debounce = setTimeout(() => {
      debounce = undefined
      refresh().catch((err: unknown) => options.onError?.(err))
    }, CHANGE_DEBOUNCE_MS)
    debounce.unref()
  }

  function watchAll (): void {
    for (const collection of [options.collections.nodes, options.collections.geoGroups, options.collections.partners] as const) {
      const stream = (collection as Collections['nodes']).watch([], { fullDocument: 'default' })
      stream.on('change', onChange)
      // A server without change streams (or a lost one) leaves polling in charge.
      stream.on('error', (err: unknown) => {
        const i = streams.indexOf(stream)
        if (i >= 0) streams.splice(i, 1)
        void stream.close().catch(() => {})
        if (!closed && !/changeStream|not supported|unsupported|replica set/i.test(String((err as Error).message))) options.onError?.(err)
      })
      streams.push(stream)
    }
  }

  if (options.watch ?? true) watchAll()
  const timer = setInterval(() => {
    refresh().catch((err: unknown) => options.onError?.(err))
  }, options.refreshMs)
  timer.unref()

  return {
    current: () => snapshot,
    refresh,
    healthy: () => ok,
    mode: () => streams.length > 0 ? 'change-stream' : 'polling',
    async close () {
      closed = true
      clearInterval(timer)
      if (debounce !== undefined) clearTimeout(debounce)
      await Promise.allSettled(streams.map((s) => s.close()))
    }
  }
}
