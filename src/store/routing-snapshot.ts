// The in-memory view of nodes, geo groups and partners that every request routes with,
// reloaded from MongoDB on an interval. When MongoDB is away the last good view keeps serving.

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
  close: () => void
}

export interface RoutingSnapshotOptions {
  collections: Pick<Collections, 'nodes' | 'geoGroups' | 'partners'>
  refreshMs: number
  now?: () => number
  onError?: (err: unknown) => void
}

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

  function refresh (): Promise<RoutingSnapshot> {
    loading ??= loadRoutingSnapshot(options.collections, now()).then(
      (next) => { snapshot = next; ok = true; return next },
      (err: unknown) => { ok = false; throw err }
    ).finally(() => { loading = undefined })
    return loading
  }

  const timer = setInterval(() => {
    refresh().catch((err: unknown) => options.onError?.(err))
  }, options.refreshMs)
  timer.unref()

  return {
    current: () => snapshot,
    refresh,
    healthy: () => ok,
    close: () => clearInterval(timer)
  }
}
