// `geogate dev` (what `npm start` runs): the store (embedded unless MONGODB_URL is set) seeded
// with the demo data, the resolver, the auth-server and the gateway, in one process.
//
// The embedded store keeps nothing on disk, so dev keeps it: its contents are saved under
// DATA_DIR after each admin write (debounced) and at shutdown, and restored at start (the demo
// data seeds only an empty directory). If the store process dies, dev starts another on the
// same port from that data; the driver reconnects to the port by itself, so the gateway and
// the auth-server recover without a restart.

import type { Config } from '../config.js'
import { DEV_SIGNING_KEYS } from '../config.js'
import { createGateway } from '../gateway.js'
import { closeOnSignal, listen, type Closer } from '../server.js'
import { request } from 'undici'
import { demoNodeKey, demoNodes, demoTokens } from '../demo/demo-data.js'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { createSaver, dataFile, restoreStore, saveStore, type Saver } from '../store/data-dir.js'
import { startEmbeddedStore, type EmbeddedStore } from '../store/embedded.js'
import { connectStore, ensureIndexes, type Store } from '../store/mongo.js'
import { seedDemoData } from '../demo/seed.js'
import { parseSigningKeys } from '../signing/keys.js'
import { generateServiceKey } from '../signing/service-request.js'
import { createAuthService } from './auth-server.js'
import { createResolverService } from './resolver.js'
import { warnWhenEmbeddedStoreOutgrown } from '../store/size-warning.js'

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
  const run = (): void => { beat().catch((err: unknown) => log(`demo heartbeat failed: ${(err as Error).message}`)) }
  run()
  const timer = setInterval(run, DEMO_KEEPALIVE_MS)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}

export interface DevSystem {
  urls: { gateway: string, resolver: string, authServer: string, store: string }
  close: () => Promise<void>
}

/** Admin writes close together share one save. */
const SAVE_DEBOUNCE_MS = 200

/** Saves after every admin write that succeeded (heartbeats are liveness, not edits). */
function saveAfterAdminWrites (app: FastifyInstance, saver: Saver): void {
  app.addHook('onResponse', async (request, reply) => {
    if (request.method === 'GET' || request.method === 'HEAD' || reply.statusCode >= 400) return
    const route = request.routeOptions.url ?? ''
    if (route.startsWith('/api/v1/') && !route.endsWith('/heartbeat')) saver.schedule()
  })
}

/**
 * Keeps the embedded store running: when its process dies (not stopped by dev), starts one on
 * the same port and refills it from the data directory.
 */
function superviseStore (
  first: EmbeddedStore, port: number, database: string, on: { down: () => void, refill: () => Promise<void> }, log: (line: string) => void
): { stop: () => Promise<void> } {
  let current = first
  const state = { stopping: false }
  const pause = (attempt: number): Promise<unknown> => new Promise((resolve) => setTimeout(resolve, Math.min(5000, 200 * attempt)))
  const watch = (store: EmbeddedStore): void => {
    void store.exited.then(async () => {
      if (state.stopping || store !== current) return
      on.down()
      log(`the embedded store exited; restarting it on port ${port} from the data directory`)
      for (let attempt = 1; !state.stopping; attempt++) {
        try {
          current = await startEmbeddedStore({ host: '127.0.0.1', port, database })
          watch(current)
          break
        } catch (err) {
          log(`restarting the embedded store failed (attempt ${attempt}): ${(err as Error).message}`)
          await pause(attempt)
        }
      }
      for (let attempt = 1; !state.stopping; attempt++) {
        try {
          await on.refill()
          log(`embedded store restarted (pid ${current.pid ?? '?'})`)
          return
        } catch (err) {
          log(`refilling the embedded store failed (attempt ${attempt}): ${(err as Error).message}`)
          await pause(attempt)
        }
      }
    })
  }
  watch(first)
  return {
    async stop () {
      state.stopping = true
      await current.stop()
    }
  }
}

/** Fills an empty store: from the data directory when it has a save, else with the demo data. */
async function fillStore (store: Store, dir: string | undefined, log: (line: string) => void): Promise<void> {
  await ensureIndexes(store.collections)
  const restored = dir === undefined ? undefined : await restoreStore(store.collections, dir)
  if (restored !== undefined && dir !== undefined) {
    log(`restored ${restored} documents from ${dataFile(dir)}`)
    return
  }
  const inserted = await seedDemoData(store.collections)
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
  const closeAll = async (): Promise<void> => {
    for (const close of closers.reverse()) await close().catch((err: unknown) => log(`while closing: ${(err as Error).message}`))
  }
  try {
    let url = config.mongodbUrl
    // Only the embedded store needs dev to keep its data; a MongoDB keeps its own.
    const dir = url === undefined ? path.resolve(config.dataDir) : undefined
    let embedded: EmbeddedStore | undefined
    if (url === undefined) {
      log('starting the embedded MongoDB-compatible store')
      embedded = await startEmbeddedStore({ host: '127.0.0.1', port: 0, database: config.mongodbDatabase })
      closers.push(embedded.stop)
      url = embedded.url
      log(`embedded store on ${url} (pid ${embedded.pid ?? '?'}), data in ${dir ?? ''}`)
    }
    const store = await connectStore({ url, database: config.mongodbDatabase, appName: 'geogate-dev' })
    closers.push(() => store.close())
    await fillStore(store, dir, log)
    if (config.mongodbUrl === undefined) closers.push(warnWhenEmbeddedStoreOutgrown(store.collections, log))

    let saver: Saver | undefined
    if (embedded !== undefined && dir !== undefined) {
      const save = saver = createSaver(async () => { await saveStore(store.collections, dir) }, SAVE_DEBOUNCE_MS,
        (err) => log(`saving to ${dir} failed: ${(err as Error).message}`))
      await save.flush()
      closers.push(() => save.flush())
      // Nothing is saved from the moment the store dies until the new one is refilled: a save
      // in between would read an empty store and overwrite the data with nothing.
      const supervisor = superviseStore(embedded, Number(new URL(url).port), config.mongodbDatabase, {
        down: () => save.pause(),
        refill: async () => {
          try {
            const restored = await restoreStore(store.collections, dir)
            await ensureIndexes(store.collections)
            log(`restored ${restored ?? 0} documents from ${dataFile(dir)}`)
          } finally {
            save.resume()
          }
        }
      }, log)
      // Replaces the plain stop pushed above: a stop from dev is not a crash to recover from.
      closers[0] = supervisor.stop
    }

    // Until the gateway listens, the demo nodes are marked alive in the store; from then on
    // they send real heartbeats through its API, with their own keys, like any node.
    await store.collections.nodes.updateMany({ _id: { $in: demoNodes.map((n) => n._id) } }, { $set: { last_seen: new Date() } })

    const resolver = await createResolverService(config)
    closers.push(() => resolver.close())
    const resolverUrl = await listen(resolver, config.host, config.resolverPort)

    const auth = await createAuthService(config, store)
    closers.push(() => auth.close())
    const authUrl = await listen(auth, config.host, config.authServerPort)

    const gateway = await createGateway({
      config: { ...config, resolverUrl: new URL(resolverUrl).origin, authServerUrl: new URL(authUrl).origin },
      store
    })
    closers.push(gateway.close)
    if (saver !== undefined) saveAfterAdminWrites(gateway.app, saver)
    const gatewayUrl = await listen(gateway.app, config.host, config.gatewayPort)
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
