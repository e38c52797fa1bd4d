// `geogate dev` (what `npm start` runs): the store (embedded unless MONGODB_URL is set) seeded
// with the demo data, the resolver, the auth-server and the gateway, in one process.
//
// The embedded store keeps nothing on disk, so dev keeps it (src/store/kept-store.ts): its
// contents are in DATA_DIR, saved before each admin write is acknowledged and at shutdown, and
// restored at start (the demo data seeds only an empty directory). If the store process dies,
// dev starts another and refills it from that data before any client reaches it again; clients
// connect to one address that outlives store processes, so the gateway and the auth-server
// recover without a restart, and never see an empty store.

import type { Config } from '../config.js'
import { DEV_SIGNING_KEYS } from '../config.js'
import { createGateway, type Gateway } from '../gateway.js'
import { closeOnSignal, listen, type Closer } from '../server.js'
import { request } from 'undici'
import { demoNodeKey, demoNodes, demoTokens } from '../demo/demo-data.js'
import path from 'node:path'
import { dataFile, restoreStore } from '../store/data-dir.js'
import { startKeptStore, type KeptStore } from '../store/kept-store.js'
import { connectStore, ensureIndexes, type Collections } from '../store/mongo.js'
import { seedDemoData } from '../demo/seed.js'
import { parseSigningKeys } from '../signing/keys.js'
import { generateServiceKey } from '../signing/service-request.js'
import { createAuthService } from './auth-server.js'
import { createResolverService } from './resolver.js'
import { warnWhenEmbeddedStoreOutgrown } from '../store/size-warning.js'
import { answerAdminWritesOnceKept, createLivenessRecord } from './dev-store.js'

const DEMO_KEEPALIVE_MS = 5000

/** Each demo node reports itself alive through the gateway's heartbeat API. */
function startDemoHeartbeats (gatewayUrl: string, log: (line: string) => void): { stop: () => void } {
  const beat = async (): Promise<void> => {
    await Promise.all(demoNodes.map(async (node) => {
      const res = await request(`${gatewayUrl}/api/v1/nodes/${node._id}/heartbeat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${demoNodeKey(node._id)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sessions: 0, mbps: 0, cpu: 0 }),
        headersTimeout: 2000,
        bodyTimeout: 2000
      })
      await res.body.dump()
      if (res.statusCode !== 200) throw new Error(`${node._id}: heartbeat answered ${res.statusCode}`)
    }))
  }
  let stopped = false
  // A beat cut short by the shutdown is no failure to report.
  const run = (): void => { beat().catch((err: unknown) => { if (!stopped) log(`demo heartbeat failed: ${(err as Error).message}`) }) }
  run()
  const timer = setInterval(run, DEMO_KEEPALIVE_MS)
  timer.unref()
  return { stop: () => { stopped = true; clearInterval(timer) } }
}

export interface DevSystem {
  urls: { gateway: string, resolver: string, authServer: string, store: string }
  close: () => Promise<void>
}

/** Fills an empty store: from the data directory when it has a save, else with the demo data. */
async function fillStore (collections: Collections, dir: string | undefined, log: (line: string) => void): Promise<void> {
  await ensureIndexes(collections)
  const restored = dir === undefined ? undefined : await restoreStore(collections, dir)
  if (restored !== undefined && dir !== undefined) {
    log(`restored ${restored} documents from ${dataFile(dir)}`)
    return
  }
  const inserted = await seedDemoData(collections)
  log(`demo data seeded (${inserted} new documents)`)
}

/** Fills in what `dev` defaults differently from production. */
export function devConfig (config: Config, env: NodeJS.ProcessEnv): Config {
  return {
    ...config,
    signingKeys: config.signingKeys === '' ? DEV_SIGNING_KEYS : config.signingKeys,
    // Its own processes only call each other: a key made now, known to them alone.
    serviceKeys: config.serviceKeys.length === 0 ? [generateServiceKey('geogate-dev')] : config.serviceKeys,
    // For convenience; dev starts three servers in one process, so one metrics port would not do.
    metricsPort: 'main',
    // Its one auth-server is the only one to see its calls.
    serviceNonces: env.SERVICE_NONCES === undefined ? 'memory' : config.serviceNonces,
    // In dev, loopback plays a trusted proxy so X-Forwarded-For can stand in for a client.
    trustedProxies: env.TRUSTED_PROXIES === undefined ? ['127.0.0.0/8', '::1/128'] : config.trustedProxies,
    gatewayId: env.GATEWAY_ID === undefined ? 'geogate-dev' : config.gatewayId
  }
}

export async function startDev (config: Config, log: (line: string) => void): Promise<DevSystem> {
  const closers: Closer[] = []
  let kept: KeptStore | undefined
  const closeAll = async (): Promise<void> => {
    // First of all: a store process that dies during the shutdown (a Ctrl-C reaches it too) is
    // not restarted.
    kept?.beginStop()
    for (const close of [...closers].reverse()) await close().catch((err: unknown) => log(`while closing: ${(err as Error).message}`))
  }
  try {
    let url = config.mongodbUrl
    const liveness = createLivenessRecord()
    // Set once the gateway is built; the store may restart before.
    const built: { gateway?: Gateway } = {}
    if (url === undefined) {
      // Only the embedded store needs dev to keep its data; a MongoDB keeps its own.
      const dir = path.resolve(config.dataDir)
      log('starting the embedded MongoDB-compatible store')
      const embedded = kept = await startKeptStore({
        dir,
        database: config.mongodbDatabase,
        fill: async (collections) => { await fillStore(collections, dir, log) },
        beforeReopen: async (collections) => { await liveness.replay(collections.nodes) },
        // An edit answered 503 because its store died may be in the gateway's view: reload it.
        onRestarted: () => { built.gateway?.refreshSnapshot().catch((err: unknown) => log(`reloading the node snapshot failed: ${(err as Error).message}`)) },
        log
      })
      closers.push(() => embedded.stop())
      url = embedded.url
      log(`embedded store on ${url} (pid ${embedded.pid() ?? '?'}), data in ${dir}`)
    }
    const store = await connectStore({ url, database: config.mongodbDatabase, appName: 'geogate-dev' })
    closers.push(() => store.close())
    if (kept === undefined) await fillStore(store.collections, undefined, log)
    else closers.push(warnWhenEmbeddedStoreOutgrown(store.collections, log))

    // Until the gateway listens, the demo nodes are marked alive in the store; from then on
    // they send real heartbeats through its API, with their own keys, like any node.
    await store.collections.nodes.updateMany({ _id: { $in: demoNodes.map((n) => n._id) } }, { $set: { last_seen: new Date() } })

    const resolver = await createResolverService(config)
    closers.push(() => resolver.close())
    const resolverUrl = await listen(resolver, config.host, config.resolverPort, 'RESOLVER_PORT')

    const auth = await createAuthService(config, store)
    closers.push(() => auth.close())
    const authUrl = await listen(auth, config.host, config.authServerPort, 'AUTH_SERVER_PORT')

    const gateway = built.gateway = await createGateway({
      config: { ...config, resolverUrl: new URL(resolverUrl).origin, authServerUrl: new URL(authUrl).origin },
      store
    })
    closers.push(gateway.close)
    if (kept !== undefined) {
      answerAdminWritesOnceKept(gateway.app, kept)
      liveness.record(gateway.app)
    }
    const gatewayUrl = await listen(gateway.app, config.host, config.gatewayPort, 'GATEWAY_PORT')
    const heartbeats = startDemoHeartbeats(gatewayUrl, log)
    closers.push(async () => heartbeats.stop())
    return { urls: { gateway: gatewayUrl, resolver: resolverUrl, authServer: authUrl, store: config.mongodbUrl === undefined ? url : 'MONGODB_URL' }, close: closeAll }
  } catch (err) {
    await closeAll()
    throw err
  }
}

export async function runDev (config: Config, env: NodeJS.ProcessEnv): Promise<void> {
  const log = (line: string): void => { process.stderr.write(`geogate dev: ${line}\n`) }
  const effective = devConfig(config, env)
  const system = await startDev(effective, log)
  closeOnSignal([system.close], log)
  const kid = parseSigningKeys(effective.signingKeys)[0]?.kid ?? '?'
  const gw = system.urls.gateway
  process.stdout.write([
    '',
    'geogate is ready',
    `  gateway      ${system.urls.gateway}`,
    `  console      ${system.urls.gateway}/admin/ (sign in with ${demoTokens.admin}; API reference at /docs/)`,
    `  resolver     ${system.urls.resolver}`,
    `  auth-server  ${system.urls.authServer}`,
    `  store        ${system.urls.store}`,
    `  signing key  ${kid}${effective.signingKeys === DEV_SIGNING_KEYS ? ' (development key: set SIGNING_KEYS for anything real)' : ''}`,
    `  service key  ${effective.serviceKeys[0]?.id ?? '?'}${config.serviceKeys.length === 0 ? ' (made for this run; the resolver and the auth-server answer only its signed calls)' : ''}`,
    '  metrics      /metrics on each server\'s own port',
    '',
    'demo tokens',
    `  ${demoTokens.viewer.padEnd(20)} views every camera of UIN-DEMO-1, no stream limit`,
    `  ${demoTokens.limited.padEnd(20)} the same, limited to 1 concurrent stream`,
    `  ${demoTokens.admin.padEnd(20)} admin API and fromip`,
    '',
    'try (a client in Moscow):',
    `  curl -si -H 'X-Forwarded-For: 77.88.8.8' '${gw}/flv?server=UIN-DEMO-1&camera=cam-1&access_token=${demoTokens.viewer}'`,
    ''
  ].join('\n') + '\n')
}
