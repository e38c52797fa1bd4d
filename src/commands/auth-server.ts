// `geogate auth-server`: answers whether a token may do something, from hashed tokens in MongoDB.

import type { FastifyInstance } from 'fastify'
import { buildAuthServerApp } from '../auth/auth-server-app.js'
import type { Config } from '../config.js'
import { loggerOptions } from '../logging.js'
import { createStoreNonceLedger } from '../signing/nonce-ledger.js'
import type { Store } from '../store/mongo.js'
import { signedCallsOf } from './signed-calls.js'

export async function createAuthService (config: Config, store: Store): Promise<FastifyInstance> {
  // Every replica inserts into one collection, so a nonce one has seen the others refuse.
  const nonces = createStoreNonceLedger(store.collections.serviceNonces)
  const signedCalls = signedCallsOf(config, 'auth-server', nonces)
  return await buildAuthServerApp({ tokens: store.collections.tokens, signedCalls, logger: loggerOptions(config.logLevel) })
}
