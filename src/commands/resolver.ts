// `geogate resolver`: the geo-resolver service, its databases reloaded when replaced on disk.

import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.js'
import { loggerOptions } from '../logging.js'
import { buildResolverService } from '../resolver/service.js'
import { createMemoryNonceLedger } from '../signing/nonce-ledger.js'
import { signedCallsOf } from './signed-calls.js'

export interface ResolverService {
  app: FastifyInstance
  close: () => Promise<void>
}

export async function createResolverService (config: Config): Promise<ResolverService> {
  // The resolver has no store: each replica remembers the nonces it has seen (README, "Signed
  // service calls", says why that is enough for it).
  const nonces = createMemoryNonceLedger()
  const app = await buildResolverService({
    signedCalls: signedCallsOf(config, 'resolver', nonces),
    ...(config.cityDatabase !== undefined && { cityDatabasePath: config.cityDatabase }),
    ...(config.asnDatabase !== undefined && { asnDatabasePath: config.asnDatabase }),
    logger: loggerOptions(config.logLevel)
  })
  return { app, close: async () => { await app.close(); nonces.close() } }
}
