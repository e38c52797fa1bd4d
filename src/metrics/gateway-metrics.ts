// The gateway's Prometheus metrics, on a registry of its own so several apps can share a process.

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import type { LocationSource } from '../geo/location.js'

export interface GatewayMetrics {
  registry: Registry
  /** A stream route answered: its path ('/flv', …) and HTTP status. */
  streamAnswer: (path: string, status: number) => void
  geoSource: (source: LocationSource) => void
  /** A stream sent to an overflow URL, named by a partner or a group. */
  overflow: (from: 'partner' | 'group') => void
  setStoreUp: (up: boolean) => void
  setSnapshotAge: (seconds: number) => void
  /** An HLS session went to the store: read (a session this process did not know), admit or renew. */
  hlsSessionStore: (op: HlsStoreOp) => void
}

export type HlsStoreOp = 'read' | 'admit' | 'renew'

export function createGatewayMetrics (options: { defaultMetrics?: boolean } = {}): GatewayMetrics {
  const registry = new Registry()
  if (options.defaultMetrics === true) collectDefaultMetrics({ register: registry })
  // The hot path bumps plain numbers; the counters read them at scrape time.
  const answerCounts = new Map<string, { format: string, status: string, count: number }>()
  const geoCounts: Record<LocationSource, number> = { cache: 0, resolver: 0, fallback: 0 }
  const overflowCounts = { partner: 0, group: 0 }
  // eslint-disable-next-line no-new -- registered in registry, read through collect
  new Counter({
    name: 'geogate_stream_requests_total',
    help: 'Stream requests by route format (any for /stream) and HTTP status',
    labelNames: ['format', 'status'] as const,
    registers: [registry],
    collect () {
      this.reset()
      for (const { format, status, count } of answerCounts.values()) this.inc({ format, status }, count)
    }
  })
  // eslint-disable-next-line no-new -- registered in registry, read through collect
  new Counter({
    name: 'geogate_geo_lookups_total',
    help: 'Client locations by the source that answered: cache, resolver or fallback',
    labelNames: ['source'] as const,
    registers: [registry],
    collect () {
      this.reset()
      for (const source of ['cache', 'resolver', 'fallback'] as const) this.inc({ source }, geoCounts[source])
    }
  })
  const hlsStoreCounts: Record<HlsStoreOp, number> = { read: 0, admit: 0, renew: 0 }
  // eslint-disable-next-line no-new -- registered in registry, read through collect
  new Counter({
    name: 'geogate_hls_session_store_total',
    help: 'HLS session store calls made by /verify: read, admit, renew (a renewal writes the session and its slot)',
    labelNames: ['op'] as const,
    registers: [registry],
    collect () {
      this.reset()
      for (const op of ['read', 'admit', 'renew'] as const) this.inc({ op }, hlsStoreCounts[op])
    }
  })
  // eslint-disable-next-line no-new -- registered in registry, read through collect
  new Counter({
    name: 'geogate_overflow_redirects_total',
    help: 'Streams no node could take, sent to the overflow URL of a partner or a geo group',
    labelNames: ['source'] as const,
    registers: [registry],
    collect () {
      this.reset()
      for (const source of ['partner', 'group'] as const) this.inc({ source }, overflowCounts[source])
    }
  })
  const storeUp = new Gauge({ name: 'geogate_store_up', help: '1 when the last snapshot load from MongoDB succeeded', registers: [registry] })
  const snapshotAge = new Gauge({ name: 'geogate_snapshot_age_seconds', help: 'Age of the node snapshot in use', registers: [registry] })
  return {
    registry,
    streamAnswer (path, status) {
      const key = `${path} ${status}`
      const entry = answerCounts.get(key)
      if (entry !== undefined) {
        entry.count++
        return
      }
      answerCounts.set(key, { format: path === '/stream' ? 'any' : path.slice(1), status: String(status), count: 1 })
    },
    geoSource (source) { geoCounts[source]++ },
    overflow (from) { overflowCounts[from]++ },
    setStoreUp (up) { storeUp.set(up ? 1 : 0) },
    setSnapshotAge (seconds) { snapshotAge.set(seconds) },
    hlsSessionStore (op) { hlsStoreCounts[op]++ }
  }
}
