// `geogate resolver`: the geo-resolver app, its databases reloaded when replaced on disk.

import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.js'
import { resolverApp } from '../resolver/app.js'
import { buildApp } from '../server.js'

export async function createResolverService (config: Config): Promise<FastifyInstance> {
  return await buildApp(resolverApp, {
    cityDatabasePath: config.cityDatabase,
    asnDatabasePath: config.asnDatabase,
    providerOrder: config.resolverProviders,
    ...(config.ipApiUrl !== undefined && {
      ipApi: { url: config.ipApiUrl, timeoutMs: config.ipApiTimeoutMs, requestsPerMinute: config.ipApiRatePerMinute, cacheTtlMs: config.ipApiCacheTtlMs }
    })
  }, { logger: config.logLevel, bodyLimit: RESOLVER_BODY_LIMIT })
}

/** A POSTed address is a few dozen bytes. */
const RESOLVER_BODY_LIMIT = 1024
