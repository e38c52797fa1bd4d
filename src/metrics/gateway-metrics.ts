// The gateway's Prometheus metrics (docs/design.md section 9), on a registry of its own so several apps
// can share a process. The request path only counts into plain numbers and arrays, indexed
// through bounded labels (src/metrics/bounded-label.ts); the series are built when /metrics is
// scraped. Every label set is bounded: a route, status or error code the gateway does not know,
// and any node, group or partner past the first few hundred, is counted as `other`.

import { Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import { errorRegistry } from '../errors.js'
import type { LocationSource } from '../geo/location.js'
import { UNKNOWN_PARTNER } from '../webhooks/session-webhooks.js'
import { WEBHOOK_DROP_REASONS, type WebhookDropReason } from '../webhooks/webhook-delivery.js'
import { createBoundedLabel, OTHER } from './bounded-label.js'
import { createHistogramCounts, histogramValues, observe, registerScrapedMetric, type HistogramCounts, type ScrapedValue } from './scraped-metric.js'

export type UpstreamName = 'resolver' | 'auth-server'
export const UPSTREAMS: readonly UpstreamName[] = ['resolver', 'auth-server']
export type BreakerState = 'closed' | 'half-open' | 'open'

export interface GatewayMetrics {
  registry: Registry
  /**
   * A request answered: its route pattern ('/flv', '/api/v1/nodes/:id'; undefined when no route
   * matched), HTTP status, error code (undefined for a success) and time taken in seconds.
   */
  requestAnswered: (route: string | undefined, status: number, code: string | undefined, seconds: number) => void
  /** A stream request sent to a node: the node, the client's geo group, the server's partner. */
  redirected: (node: string, group: string, partner: string) => void
  /** A route of the app, so that it has a label of its own. */
  knowRoute: (route: string) => void
  geoSource: (source: LocationSource) => void
  upstreamCall: (upstream: UpstreamName) => void
  upstreamError: (upstream: UpstreamName) => void
  /** How to read an upstream's breaker at scrape time. */
  watchBreaker: (upstream: UpstreamName, state: () => BreakerState) => void
  decisionLogDropped: (lines: number) => void
  setStoreUp: (up: boolean) => void
  setSnapshotAge: (seconds: number) => void
  /** A stream sent to an overflow URL, named by a partner or a group. */
  overflow: (from: 'partner' | 'group') => void
  /**
   * An HLS session store call: read (a session this process did not know, or the sessions a
   * flush renewed fewer of than it meant to), admit, renew (one flush of every renewal due,
   * written behind the requests) or renew-failed (a flush the store failed; the next retries).
   */
  hlsSessionStore: (op: HlsStoreOp) => void
  /** A write command HLS sessions sent to the store: by an admission, or by a flush of renewals. */
  hlsStoreWrite: (op: HlsWriteOp) => void
  /**
   * A steering manifest answered: the pathway (node) the player said it plays from, or null,
   * whether it was told to move, and the throughput it measured (bits/s), or null.
   */
  steeringManifest: (pathway: string | null, move: boolean, throughput: number | null) => void
  /** How to read, at scrape time, the stored documents the routing snapshot left out. */
  watchRefusedDocuments: (refused: () => ReadonlyArray<{ readonly collection: string, readonly id: string }>) => void
  /** A call to a partner's webhook: delivered (a 2xx), or failed (it may be retried). */
  webhookAttempt: (partner: string, result: WebhookResult) => void
  /** A session event given up for a partner's webhook, and why. */
  webhookDropped: (partner: string, reason: WebhookDropReason) => void
  /** How to read, at scrape time, how many webhook calls wait or are in flight. */
  watchWebhookQueue: (size: () => number) => void
}

export type WebhookResult = 'delivered' | 'failed'

export type HlsStoreOp = 'read' | 'admit' | 'renew' | 'renew-failed'
export type HlsWriteOp = 'admit' | 'renew'

/** Request-duration buckets (seconds): a warm answer takes well under a millisecond. */
export const DURATION_BOUNDS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

const STATUSES = ['200', '201', '204', '302', '400', '401', '402', '403', '404', '405', '409', '410', '413', '415', '429', '500', '503', '504']
/** Throughput buckets (bits/s) of what players report with their steering requests. */
export const THROUGHPUT_BOUNDS: readonly number[] = [250e3, 500e3, 1e6, 2e6, 4e6, 8e6, 16e6, 32e6, 64e6, 128e6]
/** The pathway label of a steering request that named none of its pathways. */
export const NO_PATHWAY = 'none'
/** The label of an answer without an error code. */
export const NO_CODE = 'none'
/** The route label of a request no route matched. */
export const UNMATCHED = 'unmatched'
const MAX_ROUTES = 100
const MAX_NODES = 1000
const MAX_GROUPS = 200
const MAX_PARTNERS = 200
/** Most node × group × partner series; past it, redirects count under other/other/other. */
const MAX_REDIRECT_SERIES = 10_000
/** The collections a routing snapshot reads, the only values of the refused documents' `collection`. */
const SNAPSHOT_COLLECTIONS = ['nodes', 'geo_groups', 'partners']
/** Most refused documents named one by one; the rest are counted per collection under id `other`. */
const MAX_REFUSED_SERIES = 100

const BREAKER_VALUES: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 }

export function createGatewayMetrics (options: { defaultMetrics?: boolean } = {}): GatewayMetrics {
  const registry = new Registry()
  if (options.defaultMetrics === true) collectDefaultMetrics({ register: registry })

  const routes = createBoundedLabel({ known: [UNMATCHED], learn: MAX_ROUTES })
  const statuses = createBoundedLabel({ known: STATUSES })
  const codes = createBoundedLabel({ known: [NO_CODE, ...Object.keys(errorRegistry)] })
  const statusIndex = new Map<number, number>(STATUSES.map((s) => [Number(s), statuses.index(s)]))
  const noCode = codes.index(NO_CODE)
  const width = statuses.values.length * codes.values.length
  // Per route: counts by status × code, and a duration histogram.
  const requestCounts: Array<Float64Array | undefined> = []
  const durations: Array<HistogramCounts | undefined> = []

  const nodes = createBoundedLabel({ learn: MAX_NODES })
  const groups = createBoundedLabel({ learn: MAX_GROUPS })
  const partners = createBoundedLabel({ learn: MAX_PARTNERS })
  // Keyed by node × 2^20 + group × 2^10 + partner: each index is below 2^10 (node's below 2^10
  // too), so the key is a small integer.
  const redirects = new Map<number, number>()

  const geoCounts: Record<LocationSource, number> = { cache: 0, resolver: 0, fallback: 0 }
  const overflowCounts = { partner: 0, group: 0 }
  const hlsStoreCounts: Record<HlsStoreOp, number> = { read: 0, admit: 0, renew: 0, 'renew-failed': 0 }
  const hlsWriteCounts: Record<HlsWriteOp, number> = { admit: 0, renew: 0 }
  // Pathways are node ids a signed steering URL names, bounded as the redirects' nodes are.
  const pathways = createBoundedLabel({ known: [NO_PATHWAY], learn: MAX_NODES })
  const steeringCounts: Array<[stay: number, move: number] | undefined> = []
  const throughputs = createHistogramCounts(THROUGHPUT_BOUNDS)
  registerScrapedMetric(registry, {
    name: 'geogate_steering_manifests_total',
    help: 'HLS steering manifests answered, by the pathway (node) the player said it plays from (none: it named none of its pathways) and whether it was told to move to another',
    type: 'counter',
    values: () => steeringCounts.flatMap((counts, i) => counts === undefined
      ? []
      : (['stay', 'move'] as const).map((steer, k) => ({ labels: { pathway: pathways.values[i] as string, steer }, value: counts[k] as number })))
  })
  registerScrapedMetric(registry, {
    name: 'geogate_steering_throughput_bits',
    help: 'The throughput HLS players measured and reported with their steering requests (_HLS_throughput), bits/s',
    type: 'histogram',
    values: () => histogramValues('geogate_steering_throughput_bits', {}, throughputs)
  })
  // Per partner (bounded as the redirects' partners are): delivered, failed, then each drop reason.
  const webhookPartners = createBoundedLabel({ known: [UNKNOWN_PARTNER], learn: MAX_PARTNERS })
  const webhookCounts: number[][] = []
  const countWebhook = (partner: string, slot: number): void => {
    const counts = webhookCounts[webhookPartners.index(partner)] ??= new Array<number>(2 + WEBHOOK_DROP_REASONS.length).fill(0)
    counts[slot] = (counts[slot] ?? 0) + 1
  }
  let webhookQueue: () => number = () => 0
  registerScrapedMetric(registry, {
    name: 'geogate_webhook_calls_total',
    help: 'Calls to partners\' webhooks with session events, by partner and result: delivered (a 2xx) or failed (no answer in time, no connection, another status; retried with backoff until the last attempt)',
    type: 'counter',
    values: () => webhookCounts.flatMap((counts, i) => (['delivered', 'failed'] as const).map((result, r) => ({
      labels: { partner: webhookPartners.values[i] as string, result }, value: counts[r] as number
    })))
  })
  registerScrapedMetric(registry, {
    name: 'geogate_webhook_dropped_total',
    help: 'Session events given up for a partner\'s webhook, by partner (unknown: before it was learned) and reason: queue_full, retries_exhausted, unresolved (the server\'s partner could not be read), shutdown',
    type: 'counter',
    values: () => webhookCounts.flatMap((counts, i) => WEBHOOK_DROP_REASONS.map((reason, r) => ({
      labels: { partner: webhookPartners.values[i] as string, reason }, value: counts[2 + r] as number
    })))
  })
  registerScrapedMetric(registry, {
    name: 'geogate_webhook_queue',
    help: 'Webhook calls with session events waiting their turn, waiting to retry or in flight',
    type: 'gauge',
    values: () => [{ labels: {}, value: webhookQueue() }]
  })
  registerScrapedMetric(registry, {
    name: 'geogate_overflow_redirects_total',
    help: 'Streams no node could take, sent to the overflow URL of a partner or a geo group',
    type: 'counter',
    values: () => (['partner', 'group'] as const).map((source) => ({ labels: { source }, value: overflowCounts[source] }))
  })
  registerScrapedMetric(registry, {
    name: 'geogate_hls_session_store_total',
    help: 'HLS session store calls made by /verify: read, admit, renew (one flush of the renewals due, written behind the requests), renew-failed',
    type: 'counter',
    values: () => (['read', 'admit', 'renew', 'renew-failed'] as const).map((op) => ({ labels: { op }, value: hlsStoreCounts[op] }))
  })
  registerScrapedMetric(registry, {
    name: 'geogate_hls_store_writes_total',
    help: 'Write commands HLS sessions sent to the store: admit (a session start\'s seats, slots and document), renew (the batched renewals of a flush)',
    type: 'counter',
    values: () => (['admit', 'renew'] as const).map((op) => ({ labels: { op }, value: hlsWriteCounts[op] }))
  })
  const upstreamCalls: Record<UpstreamName, number> = { resolver: 0, 'auth-server': 0 }
  const upstreamErrors: Record<UpstreamName, number> = { resolver: 0, 'auth-server': 0 }
  const breakers = new Map<UpstreamName, () => BreakerState>()
  let decisionLogDropped = 0

  registerScrapedMetric(registry, {
    name: 'geogate_requests_total',
    help: 'Requests answered, by route pattern, HTTP status and error code (none for a success)',
    type: 'counter',
    values: () => {
      const values: ScrapedValue[] = []
      requestCounts.forEach((counts, route) => {
        counts?.forEach((value, i) => {
          if (value === 0) return
          const status = statuses.values[Math.floor(i / codes.values.length)] as string
          const code = codes.values[i % codes.values.length] as string
          values.push({ labels: { route: routes.values[route] as string, status, code }, value })
        })
      })
      return values
    }
  })
  registerScrapedMetric(registry, {
    name: 'geogate_request_duration_seconds',
    help: 'Time to answer a request, by route pattern: for stream routes from the handler\'s start, for the others from the request\'s arrival',
    type: 'histogram',
    values: () => durations.flatMap((histogram, route) => histogram === undefined
      ? []
      : histogramValues('geogate_request_duration_seconds', { route: routes.values[route] as string }, histogram))
  })
  registerScrapedMetric(registry, {
    name: 'geogate_redirects_total',
    help: 'Stream requests sent to a node, by node, the client\'s geo group and the server\'s partner',
    type: 'counter',
    values: () => [...redirects].map(([key, value]) => ({
      labels: {
        node: nodes.values[Math.floor(key / 1_048_576)] as string,
        group: groups.values[Math.floor(key / 1024) % 1024] as string,
        partner: partners.values[key % 1024] as string
      },
      value
    }))
  })
  registerScrapedMetric(registry, {
    name: 'geogate_geo_lookups_total',
    help: 'Client locations by the source that answered: cache, resolver or fallback',
    type: 'counter',
    values: () => (['cache', 'resolver', 'fallback'] as const).map((source) => ({ labels: { source }, value: geoCounts[source] }))
  })
  registerScrapedMetric(registry, {
    name: 'geogate_upstream_requests_total',
    help: 'Calls to an upstream service (resolver, auth-server)',
    type: 'counter',
    values: () => UPSTREAMS.map((upstream) => ({ labels: { upstream }, value: upstreamCalls[upstream] }))
  })
  registerScrapedMetric(registry, {
    name: 'geogate_upstream_errors_total',
    help: 'Calls to an upstream service that failed: no answer in time, a broken connection, or a 5xx',
    type: 'counter',
    values: () => UPSTREAMS.map((upstream) => ({ labels: { upstream }, value: upstreamErrors[upstream] }))
  })
  registerScrapedMetric(registry, {
    name: 'geogate_upstream_breaker_state',
    help: 'Circuit breaker of an upstream service: 0 closed, 1 half-open (probing), 2 open',
    type: 'gauge',
    values: () => [...breakers].map(([upstream, state]) => ({ labels: { upstream }, value: BREAKER_VALUES[state()] }))
  })
  registerScrapedMetric(registry, {
    name: 'geogate_decision_log_dropped_total',
    help: 'Decision log lines dropped because the log\'s destination fell too far behind',
    type: 'counter',
    values: () => [{ labels: {}, value: decisionLogDropped }]
  })
  let refusedDocuments: () => ReadonlyArray<{ readonly collection: string, readonly id: string }> = () => []
  registerScrapedMetric(registry, {
    name: 'geogate_snapshot_refused_documents',
    help: 'Stored documents the routing snapshot left out because routing cannot read them (1 each; id other: how many more), by collection and id',
    type: 'gauge',
    values: () => {
      const named = new Map<string, ScrapedValue>()
      const others = new Map<string, number>()
      for (const { collection: given, id } of refusedDocuments()) {
        const collection = SNAPSHOT_COLLECTIONS.includes(given) ? given : OTHER
        const key = `${collection}\0${id}`
        if (named.has(key)) continue
        if (named.size < MAX_REFUSED_SERIES && id !== OTHER) named.set(key, { labels: { collection, id }, value: 1 })
        else others.set(collection, (others.get(collection) ?? 0) + 1)
      }
      return [...named.values(), ...[...others].map(([collection, value]) => ({ labels: { collection, id: OTHER }, value }))]
    }
  })
  const storeUp = new Gauge({ name: 'geogate_store_up', help: '1 when the last snapshot load from MongoDB succeeded', registers: [registry] })
  const snapshotAge = new Gauge({ name: 'geogate_snapshot_age_seconds', help: 'Age of the node snapshot in use', registers: [registry] })

  return {
    registry,
    requestAnswered (route, status, code, seconds) {
      const r = route === undefined ? 1 : routes.index(route)
      const counts = requestCounts[r] ??= new Float64Array(width)
      const s = statusIndex.get(status) ?? 0
      const c = code === undefined ? noCode : codes.index(code)
      const i = s * codes.values.length + c
      counts[i] = (counts[i] as number) + 1
      observe(durations[r] ??= createHistogramCounts(DURATION_BOUNDS), seconds)
    },
    redirected (node, group, partner) {
      let key = nodes.index(node) * 1_048_576 + groups.index(group) * 1024 + partners.index(partner)
      let count = redirects.get(key)
      if (count === undefined && redirects.size >= MAX_REDIRECT_SERIES) {
        key = 0
        count = redirects.get(0)
      }
      redirects.set(key, (count ?? 0) + 1)
    },
    knowRoute (route) { routes.index(route) },
    geoSource (source) { geoCounts[source]++ },
    overflow (from) { overflowCounts[from]++ },
    hlsSessionStore (op) { hlsStoreCounts[op]++ },
    hlsStoreWrite (op) { hlsWriteCounts[op]++ },
    steeringManifest (pathway, move, throughput) {
      const counts = steeringCounts[pathways.index(pathway ?? NO_PATHWAY)] ??= [0, 0]
      counts[move ? 1 : 0]++
      if (throughput !== null) observe(throughputs, throughput)
    },
    upstreamCall (upstream) { upstreamCalls[upstream]++ },
    upstreamError (upstream) { upstreamErrors[upstream]++ },
    watchBreaker (upstream, state) { breakers.set(upstream, state) },
    decisionLogDropped (lines) { decisionLogDropped += lines },
    watchRefusedDocuments (refused) { refusedDocuments = refused },
    webhookAttempt (partner, result) { countWebhook(partner, result === 'delivered' ? 0 : 1) },
    webhookDropped (partner, reason) { countWebhook(partner, 2 + WEBHOOK_DROP_REASONS.indexOf(reason)) },
    watchWebhookQueue (size) { webhookQueue = size },
    setStoreUp (up) { storeUp.set(up ? 1 : 0) },
    setSnapshotAge (seconds) { snapshotAge.set(seconds) }
  }
}
