// `geogate auth-server`: answers whether a token may do something, from hashed tokens in
// MongoDB, to callers that sign their calls with SERVICE_KEYS.

import type { FastifyInstance } from 'fastify'
import { AUTH_SERVER_BODY_LIMIT, authServerApp } from '../auth-server/app.js'
import type { Config } from '../config.js'
import { buildApp } from '../server.js'
import { createStoreNonceLedger } from '../signing/nonce-ledger.js'
import type { Store } from '../store/mongo.js'
import { signedCallsOf } from './signed-calls.js'

export async function createAuthService (config: Config, store: Store): Promise<FastifyInstance> {
  // Every replica inserts into one collection, so a nonce one has seen the others refuse.
  const nonces = createStoreNonceLedger(store.collections.serviceNonces)
  const signedCalls = signedCallsOf(config, 'auth-server', nonces)
  return await buildApp(authServerApp, { tokens: store.collections.tokens, signedCalls }, { logger: config.logLevel, bodyLimit: AUTH_SERVER_BODY_LIMIT })
}
