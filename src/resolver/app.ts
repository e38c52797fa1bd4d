// `geogate resolver` as an app plugin: GET (or POST) /resolve, /healthz and /metrics over a City
// database and optionally an ASN one — opened here from their paths and closed with the app,
// or given already open by the caller, who then closes them.

import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import { errorPlugin } from '../http/error-plugin.js'
import { jsonBodiesPlugin } from '../http/json-body.js'
import {
  defaultCityDatabasePath, openAsnDatabase, openCityDatabase, type AsnLookup, type LocationLookup, type ReloadLogger
} from '../geo/maxmind-lookup.js'
import { createAnswers } from './answers.js'
import { createIpApiProvider, type IpApiProviderOptions } from './ip-api-provider.js'
import type { LocationProvider } from './provider-chain.js'
import { requireSignedCalls, type SignedCallsOptions } from '../http/require-signed-calls.js'
import { createResolverMetrics } from './metrics.js'
import { resolveRoutes } from './routes.js'

export interface ResolverDatabases {
  city: LocationLookup
  asn?: AsnLookup | undefined
}

export interface ResolverAppOptions {
  /** Who may call (docs/services.md, "Signed service calls"); false answers anyone, for tests of other concerns only. */
  signedCalls: SignedCallsOptions | false
  /** Open databases to answer from; absent, the app opens cityDatabasePath and asnDatabasePath. */
  databases?: ResolverDatabases
  /** A City database, .mmdb or .mmdb.gz; default the bundled GeoLite2 City. */
  cityDatabasePath?: string | undefined
  /** An ASN database; its answers add asn and org. */
  asnDatabasePath?: string | undefined
  /** Reload a database the app opened when its file is replaced; default true. */
  watch?: boolean
  watchIntervalMs?: number
  /** An HTTP provider speaking ip-api's JSON, opened here and closed with the app. */
  ipApi?: IpApiProviderOptions | undefined
  /** Providers besides the databases and ip-api (tests). */
  extraProviders?: readonly LocationProvider[]
  /** Provider names in the order they are asked; see answers.ts. */
  providerOrder?: readonly string[] | undefined
  /** Most answers cached; default 100,000. */
  cacheMax?: number
  /** How long (ms) an answer stays cached when no reload clears it first; default 1 h. */
  cacheTtlMs?: number
  now?: () => number
}

async function openDatabases (options: ResolverAppOptions, logger: ReloadLogger): Promise<ResolverDatabases> {
  const fileOptions = { watch: options.watch ?? true, watchIntervalMs: options.watchIntervalMs, logger }
  const city = await openCityDatabase(options.cityDatabasePath ?? defaultCityDatabasePath(), fileOptions)
  try {
    return { city, asn: options.asnDatabasePath === undefined ? undefined : await openAsnDatabase(options.asnDatabasePath, fileOptions) }
  } catch (err) {
    city.close()
    throw err
  }
}

const resolver: FastifyPluginAsync<ResolverAppOptions> = async (app, options) => {
  const metrics = createResolverMetrics()
  await app.register(errorPlugin, {
    onError: (request, rendered) => { if (rendered.status === 400 && request.routeOptions.url === '/resolve') metrics.lookup('bad_request') }
  })
  await app.register(jsonBodiesPlugin)
  let databases = options.databases
  if (databases === undefined) {
    const opened = await openDatabases(options, { info: (obj, msg) => app.log.info(obj, msg), warn: (obj, msg) => app.log.warn(obj, msg) })
    app.addHook('onClose', async () => { opened.city.close(); opened.asn?.close() })
    databases = opened
  }
  const ipApi = options.ipApi === undefined ? undefined : createIpApiProvider(options.ipApi)
  if (ipApi !== undefined) app.addHook('onClose', async () => { await ipApi.close() })
  const answers = createAnswers({
    city: databases.city,
    asn: databases.asn,
    extraProviders: [...(ipApi === undefined ? [] : [ipApi]), ...(options.extraProviders ?? [])],
    order: options.providerOrder,
    cacheMax: options.cacheMax ?? 100_000,
    cacheTtlMs: options.cacheTtlMs ?? 3_600_000,
    metrics,
    now: options.now
  })
  metrics.watchCacheSize(() => answers.size)
  app.addHook('onClose', async () => { answers.close() })

  if (options.signedCalls !== false) requireSignedCalls(app, { now: options.now, ...options.signedCalls })
  await app.register(resolveRoutes, { answers, metrics })
  app.get('/metrics', { schema: { response: { 200: Type.String() } } }, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType)
    return await metrics.registry.metrics()
  })
}

export const resolverApp = fp(resolver, { name: 'geogate-resolver', fastify: '5.x' })
