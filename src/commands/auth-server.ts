// `geogate auth-server`: answers whether a token may do something, from hashed tokens in MongoDB.

import type { FastifyInstance } from 'fastify'
import { buildAuthServerApp } from '../auth-server/app.js'
import type { Config } from '../config.js'
import { loggerOptions } from '../logging.js'
import type { Store } from '../store/mongo.js'

export async function createAuthService (config: Config, store: Store): Promise<FastifyInstance> {
  return await buildAuthServerApp({ tokens: store.collections.tokens, logger: loggerOptions(config.logLevel) })
}
