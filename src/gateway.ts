// `geogate gateway`: builds every dependency of the gateway from the configuration and a store,
// and closes what it opened.

import type { FastifyInstance } from 'fastify'
import { gatewayApp } from './app.js'
import { createAuthClient } from './auth/auth-client.js'
import { createPolicy } from './balancing/policies.js'
import { createBillingChecker } from './billing/check-limits.js'
import { startSessionSweeper, type SessionSweeper } from './billing/session-sweeper.js'
import { createPlayDropper } from './billing/drop-play.js'
import { createSessionEnder } from './billing/end-session.js'
import { watchEndedSessions } from './billing/ended-sessions.js'
import { startSessionGuard } from './billing/session-guard.js'
import { sessionCollectionsOf } from './billing/sessions.js'
import { ConfigError, type Config } from './config.js'
import { createServerDirectory } from './directory/server-directory.js'
import { createSessionWebhooks, webhooksOfPartners } from './webhooks/session-webhooks.js'
import { createWebhookDelivery } from './webhooks/webhook-delivery.js'
import { createClientIpResolver } from './geo/client-ip.js'
import { defaultCityDatabasePath, openCityDatabase } from './geo/maxmind-lookup.js'
import { createGeoLocator } from './geo/resolver-client.js'
import type { LogSetting } from './logging.js'
import { openDecisionLog } from './metrics/decision-log.js'
import { createGatewayMetrics } from './metrics/gateway-metrics.js'
import { countUpstreamCalls } from './metrics/upstream-metrics.js'
import { createNodeRoutesDeps } from './handlers/node/node-routes.js'
import { createViewerGeo } from './handlers/node/viewer-geo.js'
import { parseSigningKeys, type SigningKey } from './signing/keys.js'
import { createRedirectMemo } from './handlers/stream/redirect-memo.js'
import { createRedirectGrants } from './signing/redirect-grants.js'
import { createStreamSigner, createStreamVerifier } from './signing/stream-signature.js'
import { createSteeringTokens } from './signing/steering-token.js'
import { buildApp, closeConnectionsAfterEachAnswer } from './server.js'
import { createQueryGuard, guardCollections } from './store/guarded-collections.js'
import type { Store } from './store/mongo.js'
import { createStoreHealth, type StoreHealth } from './store/store-health.js'
import { createRoutingSnapshotSource } from './routing/routing-snapshot.js'
import { RoutingConfigError, type RefusedDocument } from './routing/routable-documents.js'
import { serviceSignerOf } from './http/service-keys.js'

export interface Gateway {
  app: FastifyInstance
  /** Reloads nodes, groups and partners from MongoDB now, instead of at the next refresh. */
  refreshSnapshot: () => Promise<void>
  /** Whether MongoDB answers, as the gateway's own queries found. */
  storeHealth: StoreHealth
  /**
   * The start of a shutdown: /readyz answers 503 from now on and every answer closes its
   * connection, so load balancers and keep-alive clients move elsewhere while it still serves.
   */
  drain: () => void
  close: () => Promise<void>
}

export interface GatewayOptions {
  config: Config
  store: Store
  now?: () => number
  /** Prometheus process metrics; off in tests that build several gateways. */
  defaultMetrics?: boolean
  /**
   * False sends the resolver and the auth-server unsigned calls, which only services built
   * without signed calls answer: the bench measures against it what signing costs.
   */
  signCalls?: boolean
  /** How the app logs; default LOG_LEVEL. Tests give pino options with a stream to read the lines. */
  logger?: LogSetting
}

export async function createGateway (options: GatewayOptions): Promise<Gateway> {
  const { config, store } = options
  const now = options.now ?? Date.now
  // Every query of the gateway, on any route, within MONGODB_QUERY_TIMEOUT_MS and none while
  // the store is known to be down; the routing snapshot's reads keep trying, as the probes
  // that find the store back.
  const storeHealth = createStoreHealth({ now })
  const guarded = (probe: boolean): Store['collections'] =>
    guardCollections(store.collections, createQueryGuard({ health: storeHealth, timeoutMs: config.mongodbQueryTimeoutMs, probe }))
  const collections = guarded(false)
  // HLS lease renewals are written behind the requests, a flush of thousands at a time: bound
  // by the lease's margin (a third of HLS_IDLE_S), not by a request's deadline.
  const renewalCollections = guardCollections(store.collections, createQueryGuard({
    health: storeHealth,
    timeoutMs: Math.max(config.mongodbQueryTimeoutMs, Math.floor(config.hlsIdleS * 1000 / 3))
  }))
  let draining = false
  const keys = signingKeysOf(config)
  // The wall clock, not now(): a signature's time is checked against the other process's clock.
  const sign = options.signCalls === false ? undefined : serviceSignerOf(config)
  const metrics = createGatewayMetrics({ defaultMetrics: options.defaultMetrics ?? true })
  // The app (and its logger) is built last; parts made before it log through this.
  const logger: { current?: FastifyInstance['log'] } = {}
  const city = await openCityDatabase(config.cityDatabase ?? defaultCityDatabasePath(), { watch: true })
  const geo = createGeoLocator({
    resolverUrl: config.resolverUrl,
    timeoutMs: config.resolverTimeoutMs,
    maxBatch: config.resolverBatchMax,
    cacheMax: config.resolverCacheMax,
    cacheTtlMs: config.resolverCacheTtlMs,
    breaker: { failureThreshold: config.breakerThreshold, cooldownMs: config.breakerCooldownMs },
    // Enough sockets that a burst of misses is not timed out while queued for one.
    connections: 64,
    fallback: city,
    sign,
    now,
    // Which source answered each lookup, at debug level (metrics count them always).
    logger: { debug: (obj, msg) => logger.current?.debug(obj, msg) }
  })
  metrics.watchBreaker('resolver', () => geo.breakerState)
  const stopCountingUpstreams = countUpstreamCalls(metrics, { resolver: config.resolverUrl, 'auth-server': config.authServerUrl })
  const decisionLog = await openDecisionLog({ target: config.decisionLog, sample: config.decisionLogSample, now, onDrop: metrics.decisionLogDropped })
  const auth = createAuthClient({
    url: config.authServerUrl,
    timeoutMs: config.authTimeoutMs,
    maxBatch: config.authBatchMax,
    cacheMax: config.authCacheMax,
    maxGrantTtlMs: config.authGrantTtlMs,
    denyTtlMs: config.authDenyTtlMs,
    sign,
    denyCacheBytes: config.authDenyCacheBytes,
    staleIfErrorMs: config.authStaleIfErrorMs,
    breaker: { failureThreshold: config.authBreakerThreshold, cooldownMs: config.authBreakerCooldownMs },
    now
  })
  metrics.watchBreaker('auth-server', () => auth.breakerState)
  // Once per document, until it is fixed: everything else is routed with meanwhile. Refusals
  // found before the app's logger exists are told as soon as it does.
  const untold: RefusedDocument[] = []
  const tellRefused = (doc: RefusedDocument): void => {
    if (logger.current === undefined) untold.push(doc)
    else logger.current.error(doc, 'stored document refused by the routing snapshot; routing without it')
  }
  const routing = createRoutingSnapshotSource({
    collections: guarded(true),
    refreshMs: config.snapshotRefreshMs,
    livenessGraceMs: config.nodeTtlS * 1000,
    now,
    // The last good snapshot keeps serving; /readyz and geogate_store_up report the outage.
    onError: (err) => {
      if (err instanceof RoutingConfigError) logger.current?.error({ err: err.message }, 'routing configuration refused: nothing to route with; serving the last snapshot')
      else logger.current?.warn({ err: (err as Error).message }, 'node snapshot reload failed; serving the last one')
    },
    onRefused: tellRefused
  })
  metrics.watchRefusedDocuments(routing.refused)
  const policy = createPolicy(config.balancingPolicy, { epsilon: config.balancingEpsilon })
  const nodeTtlMs = config.nodeTtlS * 1000
  const stale = { queryTimeoutMs: config.mongodbQueryTimeoutMs, staleIfErrorMs: config.staleIfErrorMs, now }
  const billing = createBillingChecker({ collections, cacheTtlMs: config.billingCacheTtlMs, ...stale })
  const servers = createServerDirectory({ servers: collections.servers, cacheTtlMs: config.lookupCacheTtlMs, ...stale })
  // Partners' webhooks: each session's start and end, from a bounded queue that nothing waits on.
  const delivery = createWebhookDelivery({
    maxQueued: config.webhookQueueMax,
    timeoutMs: config.webhookTimeoutMs,
    maxAttempts: config.webhookAttempts,
    retryMs: config.webhookRetryMs,
    retryMaxMs: config.webhookRetryMaxMs,
    connectionsPerOrigin: config.webhookConnections,
    // The breakers keep the wall clock, not now(): how long a receiver is left alone is real time.
    onDelivered: (partner) => metrics.webhookAttempt(partner, 'delivered'),
    onFailed: (partner, err) => {
      metrics.webhookAttempt(partner, 'failed')
      // The origin only: a webhook's path or query may hold what its partner keeps secret.
      logger.current?.debug({ partner, upstream: err.upstream, code: err.code, status: err.status }, 'webhook call failed; retried unless it was the last attempt')
    },
    onDropped: (partner, reason) => metrics.webhookDropped(partner, reason)
  })
  const sessionEvents = createSessionWebhooks({
    delivery,
    partnerOf: async (server) => {
      const kept = servers.peekServer(server)
      return (kept !== undefined && 'value' in kept ? kept.value : await servers.loadServer(server)).doc?.partner
    },
    ...webhooksOfPartners(() => routing.current()?.nodes.partnersById),
    countryOf: (address) => city.lookup(address)?.country_code ?? null,
    maxPending: config.webhookQueueMax,
    now,
    onDropped: (partner, reason) => metrics.webhookDropped(partner, reason)
  })
  metrics.watchWebhookQueue(() => sessionEvents.pending + delivery.size)
  // Nothing else deletes the documents of plays that are over where the store has no TTL expiry.
  const sweeper: SessionSweeper | undefined = config.sessionSweepMs === 0
    ? undefined
    : startSessionSweeper({
      collections: sessionCollectionsOf(collections),
      everyMs: config.sessionSweepMs,
      now,
      // The end of a session that ran out unnoticed is told by the replica whose delete took it.
      events: sessionEvents,
      onSwept: (swept) => { if (swept.sessions + swept.slots > 0) logger.current?.debug(swept, 'swept the documents of plays that are over') },
      onError: (err) => logger.current?.warn({ err: (err as Error).message }, 'session sweep failed; the next one retries')
    })
  // The viewer's country by the local database, recorded with each session for the sessions list.
  const countryOf = (address: string): string | null => city.lookup(address)?.country_code ?? null
  const nodeRoutes = createNodeRoutesDeps({
    countryOf,
    config,
    collections,
    renewalCollections,
    keys,
    routing,
    now,
    onHlsStore: metrics.hlsSessionStore,
    onHlsStoreWrite: metrics.hlsStoreWrite,
    events: sessionEvents,
    // The viewer's country from the local database: /verify must not wait on the resolver.
    viewerGeo: createViewerGeo({ billing, servers, countryOf: (address) => city.lookup(address)?.country_code ?? null })
  })
  // Live sessions under the operator's hand: ended by an operator or by the guard (a revoked
  // token, a suspended account), the viewer stopped on every replica or at its node.
  const dropper = createPlayDropper({ now })
  const ender = createSessionEnder({
    collections: { ...sessionCollectionsOf(collections), nodes: collections.nodes },
    dropper,
    now,
    endHls: (ids) => nodeRoutes.hls.end(ids),
    onEnded: ({ session, stop, endedAt }, end) => {
      sessionEvents.ended(session, end.reason, endedAt)
      logger.current?.info({ session: session._id, node: session.node, owner: session.owner, by: end.by, reason: end.reason, viewer: stop.how }, 'session ended')
    }
  })
  const endedWatch = config.sessionEndPollMs === 0
    ? undefined
    : watchEndedSessions({
      sessions: collections.sessions,
      everyMs: config.sessionEndPollMs,
      now,
      onEnded: (ids) => nodeRoutes.hls.end(ids),
      onError: (err) => logger.current?.debug({ err: (err as Error).message }, 'polling for ended sessions failed; the next poll retries')
    })
  const guard = config.sessionGuardMs === 0
    ? undefined
    : startSessionGuard({
      collections,
      everyMs: config.sessionGuardMs,
      now,
      end: async (id, reason) => await ender.end(id, 'geogate', reason),
      onError: (err) => logger.current?.warn({ err: (err as Error).message }, 'the session guard failed; its next check retries')
    })
  // What is opened here closes with the app, or at once if the app cannot be built.
  const closeOpened = async (): Promise<void> => {
    // The renewals seen last, written while the store is still there.
    await nodeRoutes.hls.close()
    await sweeper?.close()
    await Promise.allSettled([endedWatch?.close(), guard?.close()])
    await dropper.close()
    await delivery.close()
    await routing.close()
    await Promise.allSettled([geo.close(), auth.close(), decisionLog.close()])
    stopCountingUpstreams()
    city.close()
  }
  const app = await buildApp(gatewayApp, {
    stream: {
      geo,
      routing,
      policy,
      auth,
      billing,
      servers,
      memo: createRedirectMemo(now),
      grants: createRedirectGrants(createStreamSigner({ keys, issuer: config.gatewayId, ttlSeconds: config.signatureTtlS, now }), now),
      signatureParam: config.signatureParam,
      nodeTtlMs,
      bindClientIp: config.bindClientIp,
      now,
      onGeoSource: metrics.geoSource,
      onOverflow: metrics.overflow,
      // HLS through geogate's multivariant playlist and steering manifest (Content Steering).
      steering: {
        tokens: createSteeringTokens({
          keys,
          issuer: config.gatewayId,
          // A player asks every TTL: three TTLs forgive a failed ask, HLS_IDLE_S a paused one.
          leaseS: 3 * config.steeringTtlS + config.hlsIdleS,
          startS: config.signatureTtlS,
          now
        }),
        ttlS: config.steeringTtlS,
        sessionMaxS: config.hlsSessionMaxS
      },
      pathways: config.steeringPathways,
      // The grant a client shows for the node that failed it: geogate's, of any age a play lasts.
      failedGrants: createStreamVerifier({ keys, now, maxLifetimeSeconds: config.signatureMaxTtlS, maxIssuedAheadSeconds: config.signatureClockSkewS, rememberMax: 1000 }),
      failedGrantMaxAgeMs: config.hlsSessionMaxS * 1000
    },
    clientIp: createClientIpResolver(config.trustedProxies),
    routing,
    readiness: {
      draining: () => draining,
      storeState: storeHealth.state,
      staleCounts: () => ({ server_records: servers.staleCount(), billing_limits: billing.staleCount() })
    },
    metrics,
    decisionLog,
    corsOrigin: config.corsOrigin,
    admin: { auth, geo, routing, policy, nodeTtlMs, pathways: config.steeringPathways, now, collections, nodeTtlS: config.nodeTtlS, ender },
    node: nodeRoutes
  }, { logger: options.logger ?? config.logLevel, bodyLimit: GATEWAY_BODY_LIMIT }).catch(async (err: unknown) => {
    await closeOpened()
    throw err
  })
  app.addHook('onClose', closeOpened)
  logger.current = app.log
  untold.splice(0).forEach(tellRefused)
  app.log.info('loading the node snapshot')
  await routing.refresh().catch((err: unknown) => app.log.error({ err }, 'first snapshot load failed; retrying'))

  return {
    app,
    async refreshSnapshot () { await routing.refresh() },
    storeHealth,
    drain () {
      if (draining) return
      draining = true
      closeConnectionsAfterEachAnswer(app)
    },
    close: () => app.close()
  }
}

/** Admin bodies are the largest a gateway takes: a geo group may list many CIDRs. */
const GATEWAY_BODY_LIMIT = 1024 * 1024

/** The signing keys, a bad SIGNING_KEYS reported like every other bad setting. */
export function signingKeysOf (config: Config): SigningKey[] {
  if (config.signingKeys === '') throw new ConfigError(['SIGNING_KEYS: required: set at least one KID=HS256:SECRET or KID=ES256:/path/key.pem'])
  // Settings that would make the gateway refuse its own signatures.
  const problems: string[] = []
  if (config.signatureTtlS > config.signatureMaxTtlS) problems.push(`SIG_TTL_S: ${config.signatureTtlS} is above SIG_MAX_TTL_S (${config.signatureMaxTtlS}): its own signatures would be refused`)
  if (config.signatureIssuers.length > 0 && !config.signatureIssuers.includes(config.gatewayId)) problems.push(`SIG_ISSUERS: does not list GATEWAY_ID '${config.gatewayId}': its own signatures would be refused`)
  if (problems.length > 0) throw new ConfigError(problems)
  try {
    return parseSigningKeys(config.signingKeys)
  } catch (err) {
    throw new ConfigError([`SIGNING_KEYS: ${(err as Error).message}`])
  }
}
