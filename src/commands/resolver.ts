// `geogate resolver`: the geo-resolver service.

import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.js'
import { defaultCityDatabasePath, openAsnDatabase, openCityDatabase } from '../geo/maxmind-lookup.js'
import { loggerOptions } from '../logging.js'
import { buildResolverApp } from '../resolver/app.js'

export interface ResolverService {
  app: FastifyInstance
  close: () => Promise<void>
}

export async function createResolverService (config: Config): Promise<ResolverService> {
  const city = await openCityDatabase(config.cityDatabase ?? defaultCityDatabasePath(), { watch: true })
  const asn = config.asnDatabase !== undefined ? await openAsnDatabase(config.asnDatabase) : undefined
  const app = await buildResolverApp({ city, ...(asn !== undefined && { asn }), logger: loggerOptions(config.logLevel) })
  return {
    app,
    async close () {
      await app.close()
      city.close()
    }
  }
}
