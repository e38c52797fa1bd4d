// geogate's configuration: environment variables only, each declared once with its default,
// parsed and validated at start. A bad value stops the process with a message naming it;
// `geogate --help` prints this table.

import { hostname } from 'node:os'
import { parseSigningKeys } from './signing/keys.js'
import { REQUEST_QUERY_TIMEOUT_MS } from './store/mongo.js'
import { parseServiceKeys } from './signing/service-request.js'
import { STALE_IF_ERROR_MS } from './store/stale-if-error.js'

type Parser<T> = (raw: string) => T

interface Setting<T> {
  env: string
  description: string
  default: string | undefined
  parse: Parser<T>
}

function setting<T> (env: string, description: string, def: string | undefined, parse: Parser<T>): Setting<T> {
  return { env, description, default: def, parse }
}

function integer (min: number, max: number): Parser<number> {
  return (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be a whole number, got ${JSON.stringify(raw)}`)
    const value = Number(raw)
    if (value < min || value > max) throw new Error(`must be between ${min} and ${max}, got ${value}`)
    return value
  }
}

function decimal (min: number, max: number): Parser<number> {
  return (raw) => {
    const value = Number(raw)
    if (raw.trim() === '' || !Number.isFinite(value)) throw new Error(`must be a number, got ${JSON.stringify(raw)}`)
    if (value < min || value > max) throw new Error(`must be between ${min} and ${max}, got ${value}`)
    return value
  }
}

const port = integer(0, 65535)
const text: Parser<string> = (raw) => raw
const optionalText: Parser<string | undefined> = (raw) => raw === '' ? undefined : raw

function oneOf<T extends string> (...values: T[]): Parser<T> {
  return (raw) => {
    if (!(values as string[]).includes(raw)) throw new Error(`must be one of ${values.join(', ')}, got ${JSON.stringify(raw)}`)
    return raw as T
  }
}

function httpUrl (raw: string): string {
  let url: URL
  try { url = new URL(raw) } catch { throw new Error(`must be an http(s) URL, got ${JSON.stringify(raw)}`) }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`must be an http(s) URL, got ${JSON.stringify(raw)}`)
  return url.origin
}

/** An http(s) URL kept whole (path included); empty: unset. */
function optionalHttpUrl (raw: string): string | undefined {
  if (raw === '') return undefined
  let url: URL
  try { url = new URL(raw) } catch { throw new Error(`must be an http(s) URL, got ${JSON.stringify(raw)}`) }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`must be an http(s) URL, got ${JSON.stringify(raw)}`)
  return url.href
}

export const locationProviders = ['maxmind-asn', 'maxmind-city', 'ip-api'] as const

function providerList (raw: string): Array<typeof locationProviders[number]> {
  const names = list(raw)
  if (names.length === 0) throw new Error('must name at least one provider')
  for (const name of names) {
    if (!(locationProviders as readonly string[]).includes(name)) throw new Error(`must list providers among ${locationProviders.join(', ')}, got ${JSON.stringify(name)}`)
  }
  if (new Set(names).size !== names.length) throw new Error('must not list a provider twice')
  return names as Array<typeof locationProviders[number]>
}

function list (raw: string): string[] {
  return raw.split(',').map((s) => s.trim()).filter((s) => s !== '')
}

function boolean (raw: string): boolean {
  if (/^(1|true|yes|on)$/i.test(raw)) return true
  if (/^(0|false|no|off)$/i.test(raw)) return false
  throw new Error(`must be true or false, got ${JSON.stringify(raw)}`)
}

function streamNameTemplate (raw: string): string | undefined {
  if (raw === '') return undefined
  if (!raw.includes('{server}') || !raw.includes('{camera}')) throw new Error(`must name both {server} and {camera}, got ${JSON.stringify(raw)}`)
  if (raw.length > 200) throw new Error('must be at most 200 characters')
  return raw
}

/** SIGNING_KEYS, checked whole at start (key files read, secrets long enough); empty: none yet. */
function signingKeySpec (raw: string): string {
  if (raw.trim() !== '') parseSigningKeys(raw)
  return raw
}

function mongoUrl (raw: string): string | undefined {
  if (raw === '') return undefined
  if (!/^mongodb(\+srv)?:\/\//.test(raw)) throw new Error('must start with mongodb:// or mongodb+srv://')
  return raw
}

/** `main`: /metrics on the process's own port; a number: its own listener; unset: the process's port + 1000 (0 stays 0). */
export type MetricsPort = number | 'main' | undefined

function metricsPort (raw: string): MetricsPort {
  if (raw === '') return undefined
  if (raw === 'main') return 'main'
  return port(raw)
}

function decisionLogTarget (raw: string): string {
  if (raw === 'off' || raw === 'stdout') return raw
  if (!raw.startsWith('/')) throw new Error(`must be off, stdout or an absolute file path, got ${JSON.stringify(raw)}`)
  return raw
}

/** The development signing key; `geogate dev` uses it when SIGNING_KEYS is unset. Never for production. */
export const DEV_SIGNING_KEYS = 'dev-1=HS256:geogate-development-signing-secret-not-for-production'

export const settings = {
  host: setting('HOST', 'address every server listens on', '127.0.0.1', text),
  gatewayPort: setting('GATEWAY_PORT', 'gateway port', '8080', port),
  resolverPort: setting('RESOLVER_PORT', 'geo-resolver port', '8081', port),
  authServerPort: setting('AUTH_SERVER_PORT', 'auth-server port', '8082', port),
  mongodbUrl: setting('MONGODB_URL', 'MongoDB connection string; unset: `geogate dev` starts the embedded store', '', mongoUrl),
  mongodbDatabase: setting('MONGODB_DB', 'database name', 'geogate', text),
  mongodbQueryTimeoutMs: setting('MONGODB_QUERY_TIMEOUT_MS', 'longest a MongoDB query on a client\'s request path may take before the answer is 503 (ms)', String(REQUEST_QUERY_TIMEOUT_MS), integer(10, 60_000)),
  gatewayId: setting('GATEWAY_ID', 'this gateway\'s id, the `iss` of every signature', hostname(), text),
  resolverUrl: setting('RESOLVER_URL', 'where the geo-resolver listens', 'http://127.0.0.1:8081', httpUrl),
  resolverTimeoutMs: setting('RESOLVER_TIMEOUT_MS', 'per-request timeout of a resolver call (ms)', '50', integer(1, 60_000)),
  resolverBatchMax: setting('RESOLVER_BATCH_MAX', 'most new addresses in one resolver call (POST /resolve/batch); 1: one GET /resolve per address', '64', integer(1, 128)),
  resolverCacheTtlMs: setting('RESOLVER_CACHE_TTL_MS', 'how long a location stays cached in the gateway (ms)', '600000', integer(0, 86_400_000)),
  resolverCacheMax: setting('RESOLVER_CACHE_MAX', 'locations cached in the gateway', '100000', integer(1, 10_000_000)),
  breakerThreshold: setting('RESOLVER_BREAKER_THRESHOLD', 'consecutive resolver failures that open the circuit', '5', integer(1, 1000)),
  breakerCooldownMs: setting('RESOLVER_BREAKER_COOLDOWN_MS', 'how long the circuit stays open before a probe (ms)', '5000', integer(1, 600_000)),
  cityDatabase: setting('MAXMIND_CITY_DB', 'MaxMind City database (.mmdb or .mmdb.gz); default: the bundled GeoLite2-City', '', optionalText),
  asnDatabase: setting('MAXMIND_ASN_DB', 'optional MaxMind ASN database for the resolver', '', optionalText),
  resolverProviders: setting('RESOLVER_PROVIDERS', 'the resolver\'s location providers, asked in this order until one answers with a city (those not configured are left out)', 'maxmind-asn,maxmind-city,ip-api', providerList),
  ipApiUrl: setting('IPAPI_URL', 'an HTTP location provider speaking ip-api\'s JSON, e.g. http://ip-api.com/json; empty: none', '', optionalHttpUrl),
  ipApiTimeoutMs: setting('IPAPI_TIMEOUT_MS', 'longest wait for the ip-api provider (ms)', '1000', integer(1, 60_000)),
  ipApiRatePerMinute: setting('IPAPI_RATE_PER_MINUTE', 'most calls per minute to the ip-api provider', '45', integer(1, 1_000_000)),
  ipApiCacheTtlMs: setting('IPAPI_CACHE_TTL_MS', 'how long an ip-api answer stays cached (ms)', '3600000', integer(1, 86_400_000)),
  authServerUrl: setting('AUTH_SERVER_URL', 'where the auth-server listens', 'http://127.0.0.1:8082', httpUrl),
  authTimeoutMs: setting('AUTH_TIMEOUT_MS', 'per-request timeout of an auth-server call (ms)', '500', integer(1, 60_000)),
  authBatchMax: setting('AUTH_BATCH_MAX', 'most new tokens in one auth-server call (POST /introspect/batch); 1: one POST /introspect per token', '64', integer(1, 64)),
  authGrantTtlMs: setting('AUTH_GRANT_TTL_MS', 'longest a grant stays cached (never past the token\'s expiry) (ms)', '60000', integer(0, 86_400_000)),
  authDenyTtlMs: setting('AUTH_DENY_TTL_MS', 'how long a denial stays cached (ms)', '5000', integer(0, 3_600_000)),
  authCacheMax: setting('AUTH_CACHE_MAX', 'tokens whose rights are cached in the gateway', '100000', integer(1, 10_000_000)),
  authDenyCacheBytes: setting('AUTH_DENY_CACHE_BYTES', 'most memory the remembered denials of unknown tokens may take (bytes)', '4194304', integer(4096, 1_073_741_824)),
  authStaleIfErrorMs: setting('AUTH_STALE_IF_ERROR_MS', 'how long a token\'s last known rights keep answering while the auth-server cannot (ms)', '3600000', integer(0, 86_400_000)),
  authBreakerThreshold: setting('AUTH_BREAKER_THRESHOLD', 'consecutive auth-server failures that open its circuit', '5', integer(1, 1000)),
  authBreakerCooldownMs: setting('AUTH_BREAKER_COOLDOWN_MS', 'how long the auth-server\'s circuit stays open before a probe (ms)', '5000', integer(1, 600_000)),
  trustedProxies: setting('TRUSTED_PROXIES', 'CIDRs whose X-Forwarded-For is believed (comma-separated)', '', list),
  signingKeys: setting('SIGNING_KEYS', 'signing keys `KID=HS256:SECRET` or `KID=ES256:/path/key.pem`, comma-separated; the first signs', '', signingKeySpec),
  serviceKeys: setting('SERVICE_KEYS', 'keys of the services that call each other, `ID:SECRET` (secret of 32+ characters), comma-separated; the first signs this process\'s calls, all verify; list a new and an old secret of one id to rotate; required by gateway, resolver and auth-server (`geogate dev` makes its own)', '', parseServiceKeys),
  serviceClockSkewS: setting('SERVICE_CLOCK_SKEW_S', 'how far a signed call\'s timestamp may be from this clock, either way, before the call is refused (s)', '30', integer(1, 600)),
  serviceNonces: setting('SERVICE_NONCES', 'where the auth-server remembers the nonces of signed calls: `store` (one insert per call, shared by every replica, so a call replayed to another replica is refused) or `memory` (this process only: for a single auth-server, as `geogate dev` runs; its default there)', 'store', oneOf('store', 'memory')),
  metricsHost: setting('METRICS_HOST', 'address of the separate /metrics listener', '127.0.0.1', text),
  metricsPort: setting('METRICS_PORT', '/metrics on a listener of its own at this port; default: the process\'s port + 1000 (9080, 9081, 9082); `main`: on the process\'s own port (what `geogate dev` does)', '', metricsPort),
  signatureParam: setting('SIG_PARAM', 'query parameter carrying the signature', 'sig', text),
  signatureTtlS: setting('SIG_TTL_S', 'lifetime of a signed URL (s)', '60', integer(5, 86_400)),
  signatureMaxTtlS: setting('SIG_MAX_TTL_S', 'longest lifetime (exp − iat) a signature may have to be accepted by /verify and the hooks; at least SIG_TTL_S (s)', '300', integer(5, 86_400)),
  signatureClockSkewS: setting('SIG_CLOCK_SKEW_S', 'how far ahead of this gateway\'s clock a signature\'s iat may be (s)', '5', integer(0, 300)),
  signatureIssuers: setting('SIG_ISSUERS', 'gateway ids (iss) whose signatures /verify and the hooks accept, comma-separated; empty: any', '', list),
  bindClientIp: setting('SIG_BIND_CLIENT_IP', 'put the client IP in the signature (`cip`)', 'false', boolean),
  nodeTtlS: setting('NODE_TTL_S', 'a node with no heartbeat for this long gets no new viewers (s)', '15', integer(1, 3600)),
  sessionLeaseS: setting('SESSION_LEASE_S', 'lease of an admitted play, renewed by each heartbeat of its node; keep it above NODE_TTL_S (s)', '45', integer(5, 86_400)),
  verifyRealIp: setting('VERIFY_REAL_IP', 'GET /verify checks a signature\'s `cip` against X-Real-IP, which the node\'s nginx must set', 'false', boolean),
  hlsIdleS: setting('HLS_IDLE_S', 'an HLS session ends when its viewer fetches nothing for this long, and its stream slot is free (s)', '30', integer(1, 3600)),
  hlsSessionMaxS: setting('HLS_SESSION_MAX_S', 'longest an HLS session goes on from its start (s)', '43200', integer(10, 604_800)),
  steeringPathways: setting('STEERING_PATHWAYS', 'alternate nodes an HLS answer offers beside the chosen one as Content Steering pathways (also the alternates of a JSON answer), from the client\'s group and then its fallback groups', '3', integer(0, 15)),
  steeringTtlS: setting('STEERING_TTL_S', 'how often a player asks the steering manifest again (its TTL): how soon an HLS viewer moves off a node that drains or fails (s)', '10', integer(1, 300)),
  sessionSweepMs: setting('SESSION_SWEEP_MS', 'how often the gateway deletes the session and slot documents whose lease ended over a minute ago (every replica may; the deletes re-check the lease); 0: never, when a TTL index or another job cleans them (ms)', '60000', integer(0, 3_600_000)),
  sessionEndPollMs: setting('SESSION_END_POLL_MS', 'how often each gateway asks the store for HLS sessions ended elsewhere (an operator, a revocation, a suspension), which it then refuses from memory; 0: never, they are refused at their next lease renewal (ms)', '1000', integer(0, 60_000)),
  sessionGuardMs: setting('SESSION_GUARD_MS', 'how often each gateway checks the tokens and accounts behind live sessions and ends those whose token is revoked or expired or whose account is not active; 0: never (ms)', '3000', integer(0, 600_000)),
  webhookQueueMax: setting('WEBHOOK_QUEUE_MAX', 'most session events a gateway holds for partners\' webhooks (waiting, waiting to retry or in flight); past it new events are dropped and counted in geogate_webhook_dropped_total', '10000', integer(1, 1_000_000)),
  webhookTimeoutMs: setting('WEBHOOK_TIMEOUT_MS', 'longest one webhook call may take before it counts as failed (ms)', '5000', integer(1, 600_000)),
  webhookAttempts: setting('WEBHOOK_ATTEMPTS', 'calls made for one event before it is dropped (the first and its retries)', '8', integer(1, 100)),
  webhookRetryMs: setting('WEBHOOK_RETRY_MS', 'wait before a failed webhook call\'s first retry; each next one waits twice as long, up to WEBHOOK_RETRY_MAX_MS, less up to half at random (ms)', '1000', integer(1, 3_600_000)),
  webhookRetryMaxMs: setting('WEBHOOK_RETRY_MAX_MS', 'longest wait between two calls for one webhook event (ms)', '60000', integer(1, 86_400_000)),
  webhookConnections: setting('WEBHOOK_CONNECTIONS', 'most webhook calls in flight to one receiving origin at once, each on a connection of its own', '4', integer(1, 256)),
  hookStreamName: setting('HOOK_STREAM_NAME', 'the stream name a node hook must report for a signed camera, e.g. `{server}_{camera}`; empty: not checked', '', streamNameTemplate),
  snapshotRefreshMs: setting('SNAPSHOT_REFRESH_MS', 'how often the node snapshot is reloaded from MongoDB (ms)', '1000', integer(100, 600_000)),
  billingCacheTtlMs: setting('BILLING_CACHE_TTL_MS', 'how long an account\'s limits stay cached (ms)', '2000', integer(0, 600_000)),
  lookupCacheTtlMs: setting('LOOKUP_CACHE_TTL_MS', 'how long server and camera records stay cached (ms)', '2000', integer(0, 600_000)),
  staleIfErrorMs: setting('STALE_IF_ERROR_MS', 'how long past their TTL cached server records and billing limits keep answering while MongoDB is unreachable; 0: not at all (ms)', String(STALE_IF_ERROR_MS), integer(0, 86_400_000)),
  drainGraceMs: setting('DRAIN_GRACE_MS', 'after SIGTERM, how long the gateway keeps accepting connections (with /readyz 503) before it stops listening and finishes what is in flight (ms)', '5000', integer(0, 600_000)),
  dataDir: setting('DATA_DIR', '`geogate dev`: where the embedded store\'s contents are saved and restored from', './.geogate', text),
  balancingPolicy: setting('BALANCING_POLICY', 'rendezvous, weighted-random or least-loaded', 'rendezvous', oneOf('rendezvous', 'weighted-random', 'least-loaded')),
  balancingEpsilon: setting('BALANCING_EPSILON', 'bounded-load slack: skip a node above (1+ε)× its group\'s mean load', '0.25', decimal(0, 10)),
  corsOrigin: setting('CORS_ORIGIN', 'Access-Control-Allow-Origin on stream answers', '*', text),
  decisionLog: setting('DECISION_LOG', 'where the decision log (a JSON line per stream answer) goes: off, stdout, or a file path', 'off', decisionLogTarget),
  decisionLogSample: setting('DECISION_LOG_SAMPLE', 'share of stream answers the decision log records, 0 to 1', '1', decimal(0, 1)),
  logLevel: setting('LOG_LEVEL', 'fatal, error, warn, info, debug or trace', 'info', oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'))
} as const

type Settings = typeof settings
export type Config = { [K in keyof Settings]: ReturnType<Settings[K]['parse']> }

export class ConfigError extends Error {
  readonly problems: string[]
  constructor (problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

/** Reads every setting from env; overrides win over env (used by `geogate dev` and tests). */
export function loadConfig (env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const problems: string[] = []
  const config: Record<string, unknown> = {}
  for (const [key, spec] of Object.entries(settings) as Array<[keyof Config, Setting<unknown>]>) {
    if (key in overrides) {
      config[key] = overrides[key]
      continue
    }
    const raw = env[spec.env] ?? spec.default ?? ''
    try {
      config[key] = spec.parse(raw)
    } catch (err) {
      problems.push(`${spec.env}: ${(err as Error).message}`)
    }
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return config as Config
}

export function configHelp (): string {
  const rows = Object.values(settings).map((s) => `  ${s.env.padEnd(28)} ${s.description}${s.default !== undefined && s.default !== '' ? ` (default ${s.default})` : ''}`)
  return rows.join('\n')
}
