// `geogate auth-server`: answers whether a token may do something, from hashed tokens in MongoDB.

import type { FastifyInstance } from 'fastify'
import { AUTH_SERVER_BODY_LIMIT, authServerApp } from '../auth-server/app.js'
import type { Config } from '../config.js'
import { buildApp } from '../server.js'
import type { Store } from '../store/mongo.js'

export async function createAuthService (config: Config, store: Store): Promise<FastifyInstance> {
  return await buildApp(authServerApp, { tokens: store.collections.tokens }, { logger: config.logLevel, bodyLimit: AUTH_SERVER_BODY_LIMIT })
}
