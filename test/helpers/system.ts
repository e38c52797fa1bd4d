// The whole system for a test: a store seeded with the demo data, and the resolver, the
// auth-server and the gateway built in this process exactly as their commands build them
// (createResolverService, createAuthService, createGateway), each listening on loopback port 0,
// so that every call between them crosses real HTTP with signed calls. In-process, not child
// processes: a `node --import tsx` child costs seconds of CPU to start, and what only a process
// boundary shows (signals, crashes, `geogate dev`) has tests of its own that start processes
// (test/helpers/processes.ts). Everything stops in teardown.

import type { Test } from 'tap'
import http from 'node:http'
import { loadConfig, type Config } from '../../src/config.js'
import { createGateway, type Gateway } from '../../src/gateway.js'
import type { LogSetting } from '../../src/logging.js'
import { demoNodes } from '../../src/demo/demo-data.js'
import { seedDemoData } from '../../src/demo/seed.js'
import { TEST_SERVICE_KEYS } from './processes.js'
import type { FastifyInstance } from 'fastify'
import { createAuthService } from '../../src/commands/auth-server.js'
import { createResolverService } from '../../src/commands/resolver.js'
import { parseServiceKeys } from '../../src/signing/service-request.js'
import { startTestStore, type TestStore } from './store.js'
import type { Store } from '../../src/store/mongo.js'

export const TEST_SIGNING_KEYS = 'test-1=HS256:geogate-test-signing-secret-0123456789abcdef'

export interface TestSystem {
  store: TestStore
  gateway: Gateway
  gatewayUrl: string
  resolver: TestService
  authServer: TestService
  config: Config
}

export interface TestSystemOptions {
  config?: Partial<Config>
  resolverEnv?: Record<string, string>
  now?: () => number
  /** The gateway's logger setting (pino options with a stream, to read what it logs); default silent. */
  logger?: LogSetting
}

/** A service app of the system, listening on loopback. */
export interface TestService {
  url: string
  metricsUrl: string
  app: FastifyInstance
  /** Closes it at once, dropping its open connections, as a crash would. */
  stop: () => Promise<void>
  readonly stopped: boolean
}

/** The environment a service's settings are read from, as `geogate <command>` would get it. */
function serviceEnv (env: Record<string, string>): NodeJS.ProcessEnv {
  return { LOG_LEVEL: 'silent', HOST: '127.0.0.1', SERVICE_KEYS: TEST_SERVICE_KEYS, ...env }
}

async function listening (t: Test, app: FastifyInstance): Promise<TestService> {
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  let stopped = false
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    app.server.closeAllConnections()
    await app.close()
  }
  t.teardown(stop)
  return { url, metricsUrl: `${url}/metrics`, app, stop, get stopped () { return stopped } }
}

/** `geogate resolver`, in this process, with settings read from env. */
export async function startResolver (t: Test, env: Record<string, string> = {}): Promise<TestService> {
  return await listening(t, await createResolverService(loadConfig(serviceEnv(env))))
}

/** `geogate auth-server` over store, in this process, with settings read from env. */
export async function startAuthServer (t: Test, store: Store, env: Record<string, string> = {}): Promise<TestService> {
  return await listening(t, await createAuthService(loadConfig(serviceEnv(env)), store))
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
    startResolver(t, options.resolverEnv),
    startAuthServer(t, store)
  ])
  const config = loadConfig({}, {
    signingKeys: TEST_SIGNING_KEYS,
    serviceKeys: parseServiceKeys(TEST_SERVICE_KEYS),
    gatewayId: 'gw-test',
    trustedProxies: ['127.0.0.1/32'],
    logLevel: 'silent',
    // The gateway and its services share this process's one thread, and the test machine runs
    // other test files beside it: the production deadlines (50 ms, 500 ms) are for services
    // with CPUs of their own. A test about deadlines sets its own.
    resolverTimeoutMs: 5000,
    authTimeoutMs: 5000,
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

/**
 * The environment of another `geogate gateway` process on the system's store and services: a
 * replica beside the test's own gateway. `more` adds or overrides settings.
 */
export function replicaEnv (system: TestSystem, more: Record<string, string> = {}): Record<string, string> {
  return {
    GATEWAY_PORT: '0',
    MONGODB_URL: system.store.url,
    MONGODB_DB: system.store.database,
    SIGNING_KEYS: TEST_SIGNING_KEYS,
    RESOLVER_URL: system.resolver.url,
    AUTH_SERVER_URL: system.authServer.url,
    ...more
  }
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
