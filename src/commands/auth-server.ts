// `geogate auth-server`: answers whether a token may do something, from hashed tokens in
// MongoDB, to callers that sign their calls with SERVICE_KEYS.

import type { FastifyInstance } from 'fastify'
import { AUTH_SERVER_BODY_LIMIT, authServerApp } from '../auth-server/app.js'
import type { Config } from '../config.js'
import { buildApp } from '../server.js'
import { createMemoryNonceLedger, createStoreNonceLedger, type NonceLedger } from '../signing/nonce-ledger.js'
import type { Collection } from 'mongodb'
import type { ServiceNonceDoc } from '../store/documents.js'
import { createQueryGuard, guardCollection } from '../store/guarded-collections.js'
import type { Store } from '../store/mongo.js'
import { probeWhileDown } from '../store/probe-while-down.js'
import { createStoreHealth } from '../store/store-health.js'
import { signedCallsOf } from '../http/service-keys.js'

export async function createAuthService (config: Config, store: Store): Promise<FastifyInstance> {
  // Every query within MONGODB_QUERY_TIMEOUT_MS, and none while the store is known to be down:
  // a gateway asking about a new token then gets a 503 at once, not after its own timeout.
  const health = createStoreHealth()
  const guard = createQueryGuard({ health, timeoutMs: config.mongodbQueryTimeoutMs })
  const probe = probeWhileDown({
    health,
    guard: createQueryGuard({ health, timeoutMs: config.mongodbQueryTimeoutMs, probe: true }),
    ping: async () => await store.db.command({ ping: 1 })
  })
  const nonces = nonceLedgerOf(config, guardCollection(store.collections.serviceNonces, guard))
  const signedCalls = signedCallsOf(config, 'auth-server', nonces)
  const app = await buildApp(authServerApp, { tokens: guardCollection(store.collections.tokens, guard), signedCalls }, { logger: config.logLevel, bodyLimit: AUTH_SERVER_BODY_LIMIT })
  app.addHook('onClose', async () => { probe.stop() })
  return app
}

/**
 * In the store every replica inserts into one collection, so a nonce one has seen the others
 * refuse. In memory a replay reaches no other replica only when there is none: what
 * `geogate dev` runs, where the embedded store would pay a write per call (each write there
 * costs in proportion to its collection: docs/performance.md).
 */
function nonceLedgerOf (config: Config, nonces: Collection<ServiceNonceDoc>): NonceLedger {
  return config.serviceNonces === 'memory' ? createMemoryNonceLedger() : createStoreNonceLedger(nonces)
}
