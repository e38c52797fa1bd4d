// Looking at a server from outside: one request (to check a scenario answers what it should
// before loading it), and the gateway's /metrics (what the load actually exercised).

import http from 'node:http'

export interface ProbeAnswer {
  status: number
  location: string | undefined
  body: string
}

/** One GET on a fresh connection, redirects not followed. */
export function probe (url: string, headers: Record<string, string> = {}): Promise<ProbeAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'GET', headers, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }))
      res.on('error', reject)
    })
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${url} timed out`)))
    req.on('error', reject)
    req.end()
  })
}

/** How long a gateway that has just started may take to load its node list (a large one, a busy machine). */
const LOADING_MS = 60_000

/**
 * Checks the answer is a redirect to a streaming node; throws with what came instead. A 503
 * while the gateway's node list has not loaded yet is its start, not its answer: asked again.
 */
export async function expectRedirect (what: string, url: string, headers: Record<string, string>): Promise<string> {
  let answer = await probe(url, headers)
  for (const deadline = Date.now() + LOADING_MS; answer.status === 503 && answer.body.includes('has not loaded yet') && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 250))
    answer = await probe(url, headers)
  }
  if (answer.status !== 302 || answer.location === undefined || !/^https?:\/\/[^/]+\/flv\?.*sig=/.test(answer.location)) {
    throw new Error(`${what}: expected a 302 to a node, got ${answer.status} ${answer.location ?? ''} ${answer.body.slice(0, 300)}`)
  }
  return answer.location
}

export interface GatewaySample {
  /** Stream answers by status code. */
  answers: Record<string, number>
  /** Client locations by the source that answered. */
  geoSources: Record<string, number>
  /** HLS session store calls by op: read, admit, renew (absent in results from before it). */
  hlsStore?: Record<string, number>
  /**
   * The store writes HLS sessions made, by the metric's first label, where the gateway counts
   * them apart from its calls (geogate_hls_store_writes_total); absent where it does not.
   */
  hlsStoreWrites?: Record<string, number>
  /** GET /verify answers by status. */
  verify?: Record<string, number>
  /** Calls to the resolver and the auth-server (a batch is one call; absent in results from before it). */
  upstreamCalls?: Record<string, number>
  heapUsedMb: number
  rssMb: number
  /**
   * The event loop's longest and p99 delay since the previous /metrics read (prom-client resets
   * its histogram on every read), beyond the 10 ms timer it measures with.
   */
  eventLoopDelayMaxMs: number
  eventLoopDelayP99Ms: number
}

/** A counter's values summed by one label, the first of labels the metric has; only series whose labels match `only`. */
function metricValues (text: string, name: string, labels: readonly string[], only?: RegExp): Record<string, number> {
  const values: Record<string, number> = {}
  const pattern = new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm')
  for (const match of text.matchAll(pattern)) {
    if (only !== undefined && !only.test(match[1] as string)) continue
    const found = labels.map((label) => new RegExp(`\\b${label}="([^"]*)"`).exec(match[1] as string)?.[1])
    const key = found.find((value) => value !== undefined)
    if (key !== undefined) values[key] = (values[key] ?? 0) + Number(match[2])
  }
  return values
}

function gauge (text: string, name: string): number {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)
  return match?.[1] === undefined ? Number.NaN : Number(match[1])
}

const LAG_TIMER_MS = 10
/** The HLS sessions' store writes, where the gateway counts them apart from its calls. */
const HLS_STORE_WRITES = 'geogate_hls_store_writes_total'

export async function sampleGateway (gatewayUrl: string): Promise<GatewaySample> {
  const answer = await probe(`${gatewayUrl}/metrics`)
  if (answer.status !== 200) throw new Error(`gateway /metrics answered ${answer.status}`)
  const mb = (bytes: number): number => Math.round(bytes / 1024 / 1024 * 10) / 10
  // prom-client samples the delay with a 10 ms timer (its default precision); an idle loop reads 10.
  const delay = (seconds: number): number => Math.max(0, Math.round((seconds * 1000 - LAG_TIMER_MS) * 10) / 10)
  return {
    answers: metricValues(answer.body, 'geogate_requests_total', ['status'], /\broute="\/(flv|hls|ws-fmp4|stream)"/),
    geoSources: metricValues(answer.body, 'geogate_geo_lookups_total', ['source']),
    hlsStore: metricValues(answer.body, 'geogate_hls_session_store_total', ['op']),
    ...(new RegExp(`^${HLS_STORE_WRITES}\\{`, 'm').test(answer.body) && { hlsStoreWrites: metricValues(answer.body, HLS_STORE_WRITES, ['op', 'kind', 'collection', 'result']) }),
    verify: metricValues(answer.body, 'geogate_requests_total', ['status'], /\broute="\/verify"/),
    upstreamCalls: metricValues(answer.body, 'geogate_upstream_requests_total', ['upstream']),
    heapUsedMb: mb(gauge(answer.body, 'nodejs_heap_size_used_bytes')),
    rssMb: mb(gauge(answer.body, 'process_resident_memory_bytes')),
    eventLoopDelayMaxMs: delay(gauge(answer.body, 'nodejs_eventloop_lag_max_seconds')),
    eventLoopDelayP99Ms: delay(gauge(answer.body, 'nodejs_eventloop_lag_p99_seconds'))
  }
}

/** What changed between two samples: counters as differences, the rest as the later value. */
export function sampleDelta (before: GatewaySample, after: GatewaySample): GatewaySample {
  const minus = (a: Record<string, number>, b: Record<string, number>): Record<string, number> => {
    const out: Record<string, number> = {}
    for (const [key, value] of Object.entries(a)) {
      const delta = value - (b[key] ?? 0)
      if (delta !== 0) out[key] = delta
    }
    return out
  }
  return {
    answers: minus(after.answers, before.answers),
    geoSources: minus(after.geoSources, before.geoSources),
    hlsStore: minus(after.hlsStore ?? {}, before.hlsStore ?? {}),
    ...(after.hlsStoreWrites !== undefined && { hlsStoreWrites: minus(after.hlsStoreWrites, before.hlsStoreWrites ?? {}) }),
    verify: minus(after.verify ?? {}, before.verify ?? {}),
    upstreamCalls: minus(after.upstreamCalls ?? {}, before.upstreamCalls ?? {}),
    heapUsedMb: after.heapUsedMb,
    rssMb: after.rssMb,
    eventLoopDelayMaxMs: after.eventLoopDelayMaxMs,
    eventLoopDelayP99Ms: after.eventLoopDelayP99Ms
  }
}
