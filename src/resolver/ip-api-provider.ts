// A location provider over HTTP, speaking ip-api.com's JSON (GET {url}/{ip}?fields=…): the
// hosted service, its pro endpoint, or anything that answers the same way. An HTTP service is
// slower, rationed and less dependable than a local database, so it has its own guards:
//   timeout      the longest wait for a whole answer; past it the provider is skipped
//   cache        answers (and "no data") kept per IP, concurrent asks for one IP share a call
//   rate limit   at most requestsPerMinute calls per minute of our own, and the service's word
//                on top: X-Rl (calls left in its window) reaching 0, or a 429, stops calls
//                until X-Ttl (seconds until its window resets) has passed
//   breaker      after failureThreshold failures in a row (timeouts, 5xx, malformed JSON) no
//                calls for cooldownMs, then one probe
// While any guard holds calls back the provider answers SKIPPED at once, and the chain asks
// the next provider. The timeout and the breaker are the one upstream client's
// (src/upstream/upstream-client.ts); the rate limits are ip-api's own.

import { createCachedLookup } from '../cache/cached-lookup.js'
import type { CircuitState } from '../upstream/circuit-breaker.js'
import { positiveNumber } from '../upstream/number-options.js'
import { createUpstreamClient, type UpstreamAnswer } from '../upstream/upstream-client.js'
import type { IPLocation } from '../geo/location.js'
import { SKIPPED, type LocationProvider, type ProviderAnswer, type ProviderResult } from './provider-chain.js'

export interface IpApiProviderOptions {
  /** The service's base URL, e.g. http://ip-api.com/json; /{ip}?fields=… is appended. */
  url: string
  /** Longest wait (ms) for an answer; default 1000. */
  timeoutMs?: number
  /** Most IPs cached; default 10,000. */
  cacheMax?: number
  /** How long (ms) an answer is cached; default 1 h. */
  cacheTtlMs?: number
  /** Most calls per minute; default 45 (ip-api's free limit). */
  requestsPerMinute?: number
  breaker?: { failureThreshold: number, cooldownMs: number }
  /** Most connections to the service; default 4. */
  connections?: number
  now?: () => number
}

export interface IpApiProvider extends LocationProvider {
  readonly breakerState: CircuitState
  /** Calls actually made to the service (not cache hits, not skipped ones). */
  readonly calls: number
  close: () => Promise<void>
}

const FIELDS = 'status,message,countryCode,region,city,lat,lon,as,org'
const MINUTE_MS = 60_000

function text (value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null
}

/**
 * ip-api's answer as a provider answer: null for its "fail" status (private, reserved or
 * invalid addresses), undefined when json is not an ip-api answer at all.
 */
export function parseIpApiAnswer (json: unknown): ProviderAnswer | null | undefined {
  if (typeof json !== 'object' || json === null) return undefined
  const body = json as Record<string, unknown>
  if (body.status === 'fail') return null
  if (body.status !== 'success') return undefined
  const countryRaw = text(body.countryCode)
  const country = countryRaw !== null && /^[A-Za-z]{2}$/.test(countryRaw) ? countryRaw.toUpperCase() : null
  const region = text(body.region)
  const city = text(body.city)
  const { lat, lon } = body
  const coordinates: [number, number] | null =
    typeof lat === 'number' && typeof lon === 'number' && Number.isFinite(lat) && Number.isFinite(lon) &&
    Math.abs(lat) <= 90 && Math.abs(lon) <= 180
      ? [lat, lon]
      : null
  const location: IPLocation | null = country === null && coordinates === null
    ? null
    : Object.freeze({
      country_code: country,
      region_iso: country !== null && region !== null && /^[A-Za-z0-9]{1,3}$/.test(region) ? `${country}-${region.toUpperCase()}` : null,
      city,
      coordinates,
      country_only: city === null && region === null
    })
  // "as" reads "AS15169 Google LLC".
  const as = /^AS(\d{1,10})(?:\s+(.*))?$/.exec(text(body.as) ?? '')
  const asn = as !== null ? Number(as[1]) : undefined
  return {
    location,
    ...(asn !== undefined && asn <= 0xffffffff && { asn, org: text(body.org) ?? as?.[2] ?? '' })
  }
}

/** The cache holds answers and "no data"; a skipped call is not cached. */
type Loaded = { answer: ProviderAnswer | null } | { skipped: true }
const SKIP: Loaded = Object.freeze({ skipped: true as const })

export function createIpApiProvider (options: IpApiProviderOptions): IpApiProvider {
  const perMinute = positiveNumber('requestsPerMinute', options.requestsPerMinute ?? 45)
  const cacheTtlMs = positiveNumber('cacheTtlMs', options.cacheTtlMs ?? 3_600_000)
  const now = options.now ?? Date.now
  const upstream = createUpstreamClient({
    name: 'ip-api',
    url: options.url,
    timeoutMs: options.timeoutMs ?? 1000,
    connections: options.connections ?? 4,
    breaker: options.breaker ?? { failureThreshold: 3, cooldownMs: 30_000 },
    now
  })

  let windowStart = -Infinity
  let windowCalls = 0
  /** No call before this time (ms): the service's own limit, told by X-Rl/X-Ttl or a 429. */
  let blockedUntil = -Infinity
  let calls = 0

  function mayCall (): boolean {
    const at = now()
    if (at < blockedUntil) return false
    if (at - windowStart >= MINUTE_MS) {
      windowStart = at
      windowCalls = 0
    }
    if (windowCalls >= perMinute) return false
    // Last: the half-open probe is taken only by a call that goes out.
    return upstream.admit()
  }

  function obeyLimit (headers: Record<string, string | string[] | undefined>, statusCode: number): void {
    const remaining = Number(headers['x-rl'])
    const ttlS = Number(headers['x-ttl'])
    const waitMs = Number.isFinite(ttlS) && ttlS >= 0 ? ttlS * 1000 : MINUTE_MS
    if (statusCode === 429 || (headers['x-rl'] !== undefined && remaining <= 0)) blockedUntil = now() + waitMs
  }

  async function ask (ip: string): Promise<Loaded> {
    if (!mayCall()) return SKIP
    windowCalls++
    calls++
    return await upstream.call({ method: 'GET', path: `/${encodeURIComponent(ip)}?fields=${FIELDS}`, admitted: true }, readAnswer)
  }

  async function readAnswer (answer: UpstreamAnswer): Promise<Loaded> {
    obeyLimit(answer.headers, answer.statusCode)
    if (answer.statusCode === 429) {
      // Rationed, not broken: an answer, which the breaker does not count as a failure.
      await answer.dump()
      return SKIP
    }
    if (answer.statusCode !== 200) throw await answer.unexpectedStatus()
    const parsed = parseIpApiAnswer(await answer.json())
    if (parsed === undefined) throw answer.malformed('something that is not its JSON')
    return { answer: parsed }
  }

  const cache = createCachedLookup<string, Loaded>(ask, {
    max: options.cacheMax ?? 10_000,
    ttlFor: (value) => ('skipped' in value ? 0 : cacheTtlMs),
    // A refresh ahead would spend the rationed calls on IPs already known.
    refreshAhead: 1,
    now
  })

  return {
    name: 'ip-api',
    async locate (ip: string): Promise<ProviderResult> {
      let loaded: Loaded
      try {
        loaded = await cache.get(ip)
      } catch {
        return SKIPPED
      }
      return 'skipped' in loaded ? SKIPPED : loaded.answer
    },
    get breakerState () { return upstream.breakerState },
    get calls () { return calls },
    close: upstream.close
  }
}
