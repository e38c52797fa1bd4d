// `geogate auth-server`: answers whether a token may do something, from hashed tokens in
// MongoDB, to callers that sign their calls with SERVICE_KEYS.

import type { FastifyInstance } from 'fastify'
import { AUTH_SERVER_BODY_LIMIT, authServerApp } from '../auth-server/app.js'
import type { Config } from '../config.js'
import { buildApp } from '../server.js'
import { createMemoryNonceLedger, createStoreNonceLedger, type NonceLedger } from '../signing/nonce-ledger.js'
import type { Store } from '../store/mongo.js'
import { signedCallsOf } from './signed-calls.js'

export async function createAuthService (config: Config, store: Store): Promise<FastifyInstance> {
  const nonces = nonceLedgerOf(config, store)
  const signedCalls = signedCallsOf(config, 'auth-server', nonces)
  return await buildApp(authServerApp, { tokens: store.collections.tokens, signedCalls }, { logger: config.logLevel, bodyLimit: AUTH_SERVER_BODY_LIMIT })
}

/**
 * In the store every replica inserts into one collection, so a nonce one has seen the others
 * refuse. In memory a replay reaches no other replica only when there is none: what
 * `geogate dev` runs, where the embedded store would pay a write per call (each write there
 * costs in proportion to its collection: README, "Performance").
 */
function nonceLedgerOf (config: Config, store: Store): NonceLedger {
  return config.serviceNonces === 'memory' ? createMemoryNonceLedger() : createStoreNonceLedger(store.collections.serviceNonces)
}
