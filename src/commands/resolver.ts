// `geogate resolver`: the geo-resolver service, its databases reloaded when replaced on disk.

import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.js'
import { loggerOptions } from '../logging.js'
import { buildResolverService } from '../resolver/service.js'

export interface ResolverService {
  app: FastifyInstance
  close: () => Promise<void>
}

export async function createResolverService (config: Config): Promise<ResolverService> {
  const app = await buildResolverService({
    ...(config.cityDatabase !== undefined && { cityDatabasePath: config.cityDatabase }),
    ...(config.asnDatabase !== undefined && { asnDatabasePath: config.asnDatabase }),
    providerOrder: config.resolverProviders,
    ...(config.ipApiUrl !== undefined && {
      ipApi: { url: config.ipApiUrl, timeoutMs: config.ipApiTimeoutMs, requestsPerMinute: config.ipApiRatePerMinute, cacheTtlMs: config.ipApiCacheTtlMs }
    }),
    logger: loggerOptions(config.logLevel)
  })
  return { app, close: () => app.close() }
}
