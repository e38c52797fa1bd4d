// The resolver as its process runs it: opens the City (and optional ASN) database, watching
// for replaced files, builds the app over them and closes them when the app closes. The CLI
// only has to listen.

import type { FastifyBaseLogger, FastifyInstance, FastifyServerOptions } from 'fastify'
import { type AsnLookup, type LocationLookup, type ReloadLogger, defaultCityDatabasePath, openAsnDatabase, openCityDatabase } from '../geo/maxmind-lookup.js'
import { buildResolverApp } from './app.js'
import type { SignedCallsOptions } from '../http/require-signed-calls.js'

export interface ResolverServiceOptions {
  /** Who may call; false answers anyone, for tests of other concerns only. */
  signedCalls: SignedCallsOptions | false
  /** A City database, .mmdb or .mmdb.gz; default the bundled GeoLite2 City. */
  cityDatabasePath?: string
  /** An ASN database; its answers add asn and org. */
  asnDatabasePath?: string
  /** Reload a database when its file is replaced; default true. */
  watch?: boolean
  watchIntervalMs?: number
  cacheMax?: number
  cacheTtlMs?: number
  logger?: FastifyServerOptions['logger']
  loggerInstance?: FastifyBaseLogger
}

export async function buildResolverService (options: ResolverServiceOptions): Promise<FastifyInstance> {
  let app: FastifyInstance | undefined
  // The databases open before the app (and its logger) exists; their reload messages go to
  // the app's logger once it does.
  const logger: ReloadLogger = {
    info: (obj, msg) => app?.log.info(obj, msg),
    warn: (obj, msg) => app?.log.warn(obj, msg)
  }
  const watch = options.watch ?? true
  const fileOptions = { watch, watchIntervalMs: options.watchIntervalMs, logger }
  const city: LocationLookup = await openCityDatabase(options.cityDatabasePath ?? defaultCityDatabasePath(), fileOptions)
  let asn: AsnLookup | undefined
  try {
    if (options.asnDatabasePath !== undefined) asn = await openAsnDatabase(options.asnDatabasePath, fileOptions)
    app = await buildResolverApp({
      city,
      asn,
      signedCalls: options.signedCalls,
      cacheMax: options.cacheMax,
      cacheTtlMs: options.cacheTtlMs,
      logger: options.logger,
      loggerInstance: options.loggerInstance
    })
  } catch (err) {
    city.close()
    asn?.close()
    throw err
  }
  app.addHook('onClose', async () => {
    city.close()
    asn?.close()
  })
  return app
}
