// `geogate resolver`: the geo-resolver app, its databases reloaded when replaced on disk,
// answering callers that sign their calls with SERVICE_KEYS.

import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.js'
import { resolverApp } from '../resolver/app.js'
import { buildApp } from '../server.js'
import { createMemoryNonceLedger } from '../signing/nonce-ledger.js'
import { signedCallsOf } from '../http/service-keys.js'

export async function createResolverService (config: Config): Promise<FastifyInstance> {
  // The resolver has no store: each replica remembers the nonces it has seen (docs/services.md, "Signed
  // service calls", says why that is enough for it).
  const nonces = createMemoryNonceLedger()
  const app = await buildApp(resolverApp, {
    signedCalls: signedCallsOf(config, 'resolver', nonces),
    cityDatabasePath: config.cityDatabase,
    asnDatabasePath: config.asnDatabase,
    providerOrder: config.resolverProviders,
    ...(config.ipApiUrl !== undefined && {
      ipApi: { url: config.ipApiUrl, timeoutMs: config.ipApiTimeoutMs, requestsPerMinute: config.ipApiRatePerMinute, cacheTtlMs: config.ipApiCacheTtlMs }
    })
  }, { logger: config.logLevel, bodyLimit: RESOLVER_BODY_LIMIT })
  app.addHook('onClose', async () => { nonces.close() })
  return app
}

/** A POSTed address is a few dozen bytes. */
const RESOLVER_BODY_LIMIT = 1024
