// A gateway whose store can be cut under it: the embedded store with the demo data, reached by
// the gateway through a proxy the test black-holes (a stalled network, a hung primary), while
// the auth-server and the test itself read it directly. The resolver and the auth-server are
// built in the test's process, as their commands build them.

import type { Test } from 'tap'
import { createAuthService } from '../../src/commands/auth-server.js'
import { createResolverService } from '../../src/commands/resolver.js'
import { loadConfig, type Config } from '../../src/config.js'
import { demoNodes } from '../../src/demo/demo-data.js'
import { seedDemoData } from '../../src/demo/seed.js'
import { createGateway, type Gateway } from '../../src/gateway.js'
import { parseServiceKeys } from '../../src/signing/service-request.js'
import { startEmbeddedStore, type EmbeddedStore } from '../../src/store/embedded.js'
import { connectStore, ensureIndexes, type Store } from '../../src/store/mongo.js'
import { TEST_SERVICE_KEYS } from './processes.js'
import { startStoreProxy, type StoreProxy } from './store-proxy.js'
import { TEST_SIGNING_KEYS } from './system.js'

export interface CutStoreSystem {
  embedded: EmbeddedStore
  /** The store as the test and the auth-server reach it: never cut. */
  direct: Store
  /** Between the gateway and the store. */
  proxy: StoreProxy
  gateway: Gateway
  base: string
}

export interface CutStoreOptions {
  database: string
  config?: Partial<Config>
  /** The gateway's clock; the demo nodes are alive as of it. */
  now?: () => number
  /** Changes to the demo data before the gateway starts. */
  prepare?: (direct: Store) => Promise<void>
}

export async function startCutStoreSystem (t: Test, options: CutStoreOptions): Promise<CutStoreSystem> {
  const { database } = options
  const embedded = await startEmbeddedStore({ database })
  t.teardown(() => embedded.stop())
  const direct = await connectStore({ url: embedded.url, database })
  t.teardown(() => direct.close())
  await ensureIndexes(direct.collections)
  await seedDemoData(direct.collections)
  await direct.collections.nodes.updateMany({ _id: { $in: demoNodes.map((n) => n._id) } }, { $set: { last_seen: new Date(options.now?.() ?? Date.now()) } })
  await options.prepare?.(direct)

  const target = new URL(embedded.url)
  const proxy = await startStoreProxy(t, { host: target.hostname, port: Number(target.port) })
  const viaProxy = await connectStore({ url: proxy.url(database), database, serverSelectionTimeoutMs: 5000 })
  t.teardown(() => viaProxy.client.close(true))

  const config = loadConfig({}, {
    signingKeys: TEST_SIGNING_KEYS,
    serviceKeys: parseServiceKeys(TEST_SERVICE_KEYS),
    gatewayId: 'gw-test',
    trustedProxies: ['127.0.0.1/32'],
    logLevel: 'silent',
    // A loaded machine's first calls are slow; the services are not what these tests are about.
    authTimeoutMs: 5000,
    resolverTimeoutMs: 2000,
    ...options.config
  })
  const authServer = await createAuthService(config, direct)
  t.teardown(() => authServer.close())
  const resolver = await createResolverService(config)
  t.teardown(() => resolver.close())
  const gateway = await createGateway({
    config: {
      ...config,
      authServerUrl: await authServer.listen({ host: '127.0.0.1', port: 0 }),
      resolverUrl: await resolver.listen({ host: '127.0.0.1', port: 0 })
    },
    store: viaProxy,
    defaultMetrics: false,
    ...(options.now !== undefined && { now: options.now })
  })
  t.teardown(() => gateway.close())
  const base = await gateway.app.listen({ host: '127.0.0.1', port: 0 })
  return { embedded, direct, proxy, gateway, base }
}
