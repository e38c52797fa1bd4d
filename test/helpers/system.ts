// The whole system for an end-to-end test: a store seeded with the demo data, the resolver and
// the auth-server as real `geogate` processes on loopback, and a gateway built in-process on
// port 0 (so a test can inspect its store traffic). Everything stops in teardown.

import type { Test } from 'tap'
import http from 'node:http'
import { loadConfig, type Config } from '../../src/config.js'
import { createGateway, type Gateway } from '../../src/gateway.js'
import type { LogSetting } from '../../src/logging.js'
import { demoNodes } from '../../src/demo/demo-data.js'
import { seedDemoData } from '../../src/demo/seed.js'
import { TEST_SERVICE_KEYS, startGeogate, type GeogateProcess } from './processes.js'
import { parseServiceKeys } from '../../src/signing/service-request.js'
import { startTestStore, type TestStore } from './store.js'

export const TEST_SIGNING_KEYS = 'test-1=HS256:geogate-test-signing-secret-0123456789abcdef'

export interface TestSystem {
  store: TestStore
  gateway: Gateway
  gatewayUrl: string
  resolver: GeogateProcess
  authServer: GeogateProcess
  config: Config
}

export interface TestSystemOptions {
  config?: Partial<Config>
  resolverEnv?: Record<string, string>
  now?: () => number
  /** The gateway's logger setting (pino options with a stream, to read what it logs); default silent. */
  logger?: LogSetting
}

export async function markDemoNodesAlive (store: TestStore, at: Date = new Date()): Promise<void> {
  await store.collections.nodes.updateMany({ _id: { $in: demoNodes.map((n) => n._id) } }, { $set: { last_seen: at } })
}

export async function startSystem (t: Test, options: TestSystemOptions = {}): Promise<TestSystem> {
  const store = await startTestStore(t)
  await seedDemoData(store.collections)
  await markDemoNodesAlive(store, new Date(options.now?.() ?? Date.now()))
  if (options.now === undefined) {
    // Like the demo nodes of `geogate dev`: alive for as long as the test runs.
    const timer = setInterval(() => { markDemoNodesAlive(store).catch(() => {}) }, 3000)
    t.teardown(() => clearInterval(timer))
  }
  const [resolver, authServer] = await Promise.all([
    startGeogate(t, 'resolver', { RESOLVER_PORT: '0', ...options.resolverEnv }),
    startGeogate(t, 'auth-server', { AUTH_SERVER_PORT: '0', MONGODB_URL: store.url, MONGODB_DB: store.database })
  ])
  const config = loadConfig({}, {
    signingKeys: TEST_SIGNING_KEYS,
    serviceKeys: parseServiceKeys(TEST_SERVICE_KEYS),
    gatewayId: 'gw-test',
    trustedProxies: ['127.0.0.1/32'],
    logLevel: 'silent',
    ...options.config,
    resolverUrl: resolver.url,
    authServerUrl: authServer.url
  })
  const gateway = await createGateway({
    config, store, defaultMetrics: false, ...(options.now !== undefined && { now: options.now }), ...(options.logger !== undefined && { logger: options.logger })
  })
  t.teardown(() => gateway.close())
  const gatewayUrl = await gateway.app.listen({ host: '127.0.0.1', port: 0 })
  return { store, gateway, gatewayUrl, resolver, authServer, config }
}

export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
  json: () => any
}

/** A GET that does not follow redirects; `from` picks the loopback address it comes from. */
export function get (url: string, options: { headers?: Record<string, string>, from?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'GET', headers: options.headers ?? {}, agent: false, ...(options.from !== undefined && { localAddress: options.from }) }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) }))
      res.on('error', reject)
    })
    req.setTimeout(30_000, () => req.destroy(new Error(`GET ${url} timed out`)))
    req.on('error', reject)
    req.end()
  })
}
