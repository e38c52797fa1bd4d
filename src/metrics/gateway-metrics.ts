// The gateway's Prometheus metrics, on a registry of its own so several apps can share a process.

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import type { LocationSource } from '../geo/location.js'

export interface GatewayMetrics {
  registry: Registry
  /** A stream route answered: its path ('/flv', …) and HTTP status. */
  streamAnswer: (path: string, status: number) => void
  geoSource: (source: LocationSource) => void
  setStoreUp: (up: boolean) => void
  setSnapshotAge: (seconds: number) => void
}

export function createGatewayMetrics (options: { defaultMetrics?: boolean } = {}): GatewayMetrics {
  const registry = new Registry()
  if (options.defaultMetrics === true) collectDefaultMetrics({ register: registry })
  const answers = new Counter({
    name: 'geogate_stream_requests_total',
    help: 'Stream requests by route format (any for /stream) and HTTP status',
    labelNames: ['format', 'status'] as const,
    registers: [registry]
  })
  const geo = new Counter({
    name: 'geogate_geo_lookups_total',
    help: 'Client locations by the source that answered: cache, resolver or fallback',
    labelNames: ['source'] as const,
    registers: [registry]
  })
  const storeUp = new Gauge({ name: 'geogate_store_up', help: '1 when the last snapshot load from MongoDB succeeded', registers: [registry] })
  const snapshotAge = new Gauge({ name: 'geogate_snapshot_age_seconds', help: 'Age of the node snapshot in use', registers: [registry] })
  // Labelled children are looked up once, not per request.
  const answerChildren = new Map<string, Counter<'format' | 'status'>['labels'] extends (...args: never[]) => infer R ? R : never>()
  const geoChildren = {
    cache: geo.labels('cache'),
    resolver: geo.labels('resolver'),
    fallback: geo.labels('fallback')
  }
  return {
    registry,
    streamAnswer (path, status) {
      const key = `${path} ${status}`
      let child = answerChildren.get(key)
      if (child === undefined) {
        child = answers.labels(path === '/stream' ? 'any' : path.slice(1), String(status))
        answerChildren.set(key, child)
      }
      child.inc()
    },
    geoSource (source) { geoChildren[source].inc() },
    setStoreUp (up) { storeUp.set(up ? 1 : 0) },
    setSnapshotAge (seconds) { snapshotAge.set(seconds) }
  }
}
