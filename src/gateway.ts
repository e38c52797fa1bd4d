// `geogate gateway`: builds every dependency of the gateway from the configuration and a store,
// and closes what it opened.

import type { FastifyInstance } from 'fastify'
import { gatewayApp } from './app.js'
import { createAuthClient } from './auth/auth-client.js'
import { createPolicy } from './balancing/policies.js'
import { createBillingChecker } from './billing/check-limits.js'
import { ConfigError, type Config } from './config.js'
import { createServerDirectory } from './directory/server-directory.js'
import { createClientIpResolver } from './geo/client-ip.js'
import { defaultCityDatabasePath, openCityDatabase } from './geo/maxmind-lookup.js'
import { createGeoLocator } from './geo/resolver-client.js'
import { openDecisionLog } from './metrics/decision-log.js'
import { createGatewayMetrics } from './metrics/gateway-metrics.js'
import { countUpstreamCalls } from './metrics/upstream-metrics.js'
import { createNodeRoutesDeps } from './handlers/node/node-routes.js'
import { parseSigningKeys, type SigningKey } from './signing/keys.js'
import { createRedirectMemo } from './handlers/stream/redirect-memo.js'
import { createRedirectGrants } from './signing/redirect-grants.js'
import { createStreamSigner } from './signing/stream-signature.js'
import { buildApp } from './server.js'
import type { Store } from './store/mongo.js'
import { createRoutingSnapshotSource } from './routing/routing-snapshot.js'

export interface Gateway {
  app: FastifyInstance
  /** Reloads nodes, groups and partners from MongoDB now, instead of at the next refresh. */
  refreshSnapshot: () => Promise<void>
  close: () => Promise<void>
}

export interface GatewayOptions {
  config: Config
  store: Store
  now?: () => number
  /** Prometheus process metrics; off in tests that build several gateways. */
  defaultMetrics?: boolean
}

export async function createGateway (options: GatewayOptions): Promise<Gateway> {
  const { config, store } = options
  const now = options.now ?? Date.now
  const keys = signingKeysOf(config)
  const metrics = createGatewayMetrics({ defaultMetrics: options.defaultMetrics ?? true })
  // The app (and its logger) is built last; parts made before it log through this.
  const logger: { current?: FastifyInstance['log'] } = {}
  const city = await openCityDatabase(config.cityDatabase ?? defaultCityDatabasePath(), { watch: true })
  const geo = createGeoLocator({
    resolverUrl: config.resolverUrl,
    timeoutMs: config.resolverTimeoutMs,
    cacheMax: config.resolverCacheMax,
    cacheTtlMs: config.resolverCacheTtlMs,
    breaker: { failureThreshold: config.breakerThreshold, cooldownMs: config.breakerCooldownMs },
    // Enough sockets that a burst of misses is not timed out while queued for one.
    connections: 64,
    fallback: city,
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
    cacheMax: config.authCacheMax,
    maxGrantTtlMs: config.authGrantTtlMs,
    denyTtlMs: config.authDenyTtlMs,
    now
  })
  const routing = createRoutingSnapshotSource({
    collections: store.collections,
    refreshMs: config.snapshotRefreshMs,
    now,
    // The last good snapshot keeps serving; /readyz and geogate_store_up report the outage.
    onError: (err) => logger.current?.warn({ err: (err as Error).message }, 'node snapshot reload failed; serving the last one')
  })
  const policy = createPolicy(config.balancingPolicy, { epsilon: config.balancingEpsilon })
  const nodeTtlMs = config.nodeTtlS * 1000
  const app = await buildApp(gatewayApp, {
    stream: {
      geo,
      routing,
      policy,
      auth,
      billing: createBillingChecker({ collections: store.collections, cacheTtlMs: config.billingCacheTtlMs, queryTimeoutMs: config.mongodbQueryTimeoutMs, now }),
      servers: createServerDirectory({ servers: store.collections.servers, cacheTtlMs: config.lookupCacheTtlMs, queryTimeoutMs: config.mongodbQueryTimeoutMs, now }),
      memo: createRedirectMemo(now),
      grants: createRedirectGrants(createStreamSigner({ keys, issuer: config.gatewayId, ttlSeconds: config.signatureTtlS, now }), now),
      signatureParam: config.signatureParam,
      nodeTtlMs,
      bindClientIp: config.bindClientIp,
      now,
      onGeoSource: metrics.geoSource
    },
    clientIp: createClientIpResolver(config.trustedProxies),
    routing,
    metrics,
    decisionLog,
    corsOrigin: config.corsOrigin,
    admin: { auth, geo, routing, policy, nodeTtlMs, now, collections: store.collections },
    node: createNodeRoutesDeps({ config, collections: store.collections, keys, now })
  }, { logger: config.logLevel, bodyLimit: GATEWAY_BODY_LIMIT })
  logger.current = app.log
  app.log.info('loading the node snapshot')
  await routing.refresh().catch((err: unknown) => app.log.error({ err }, 'first snapshot load failed; retrying'))

  return {
    app,
    async refreshSnapshot () { await routing.refresh() },
    async close () {
      await routing.close()
      await app.close()
      await Promise.allSettled([geo.close(), auth.close(), decisionLog.close()])
      stopCountingUpstreams()
      city.close()
    }
  }
}

/** Admin bodies are the largest a gateway takes: a geo group may list many CIDRs. */
const GATEWAY_BODY_LIMIT = 1024 * 1024

/** The signing keys, a bad SIGNING_KEYS reported like every other bad setting. */
export function signingKeysOf (config: Config): SigningKey[] {
  if (config.signingKeys === '') throw new ConfigError(['SIGNING_KEYS: required: set at least one KID=HS256:SECRET or KID=ES256:/path/key.pem'])
  try {
    return parseSigningKeys(config.signingKeys)
  } catch (err) {
    throw new ConfigError([`SIGNING_KEYS: ${(err as Error).message}`])
  }
}
