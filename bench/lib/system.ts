// Starting the processes of a bench run: the store and the upstreams on the load core, the
// gateway (or the baseline) alone on the server core.

import net from 'node:net'
import type { Launcher } from './build.js'
import { MAIN_DATABASE, MANY_NODES_DATABASE } from '../servers/bench-data.js'
import { startChild, waitForReady, type Child } from './children.js'
import { NODE_FLAGS } from '../../src/node-flags.js'
import { connectStore } from '../../src/store/mongo.js'

/** The gateway and the baseline (and the microbenchmarks) run here… */
export const SERVER_CORE = 0
/** …and wrk and the gateway's dependencies here. */
export const LOAD_CORE = 1

export interface StoreInfo {
  storeUrl: string
  database: string
  extraNodes: number
  /** Bench tokens in this store. */
  tokens: number
  seededMs: number
}

interface UpstreamInfo {
  resolverUrl: string
  /** The auth-server whose tokens are in memory (the in-memory stand-in for MongoDB). */
  authServerUrl: string
  /** The auth-server that reads the embedded store's tokens, as `npm start` runs it. */
  storeAuthServerUrl: string
  /** A resolver and an in-memory auth-server that check no signature. */
  unsignedResolverUrl: string
  unsignedAuthServerUrl: string
  tokens: number
  /** The resolvers' and the auth-servers' processes, whose CPU time the cold scenarios count. */
  upstreamPids: number[]
}

export interface SystemInfo extends UpstreamInfo {
  /** The demo data. */
  store: StoreInfo
  /** The demo data plus the extra nodes; absent when none were asked for. */
  nodesStore: StoreInfo | undefined
}

function startStore (launcher: Launcher, database: string, extraNodes: number, nice: number | undefined, tokens = 0): Promise<StoreInfo> {
  const child = startChild(`bench store (${database})`, process.execPath, launcher.args('bench/servers/store-server.ts'), {
    core: LOAD_CORE,
    ...(nice !== undefined && { nice }),
    stdinPipe: true,
    env: { BENCH_DATABASE: database, BENCH_EXTRA_NODES: String(extraNodes), BENCH_STORE_TOKENS: String(tokens) }
  })
  return waitForReady<StoreInfo>(child, 600_000)
}

/**
 * The stores and the upstreams, on the load core. The demo store is idle but for small
 * periodic queries. The store with many nodes (when extraNodes > 0) keeps them alive with a
 * heartbeat of thousands of writes every few seconds; even at a low priority that work on
 * the load core delays wrk, whose pace is the measurement, and doubled the p99 of the other
 * scenarios — so a bench run starts it with startNodesStore for the scenario that needs it.
 */
export async function startSystem (launcher: Launcher, options: { tokens: number, storeTokens: number, extraNodes: number }): Promise<SystemInfo> {
  const [store, nodesStore] = await Promise.all([
    startStore(launcher, MAIN_DATABASE, 0, undefined, options.storeTokens),
    options.extraNodes > 0 ? startNodesStore(launcher, options.extraNodes) : undefined
  ])
  const upstreams = (role: 'resolvers' | 'auth-servers'): Child => startChild(`bench ${role}`, process.execPath, launcher.args('bench/servers/deps-server.ts'), {
    core: LOAD_CORE,
    stdinPipe: true,
    env: { BENCH_UPSTREAMS: role, BENCH_TOKENS: String(options.tokens), BENCH_STORE_URL: store.storeUrl, BENCH_DATABASE: store.database }
  })
  const resolverChild = upstreams('resolvers')
  const authServerChild = upstreams('auth-servers')
  const [resolvers, authServers] = await Promise.all([
    waitForReady<Pick<UpstreamInfo, 'resolverUrl' | 'unsignedResolverUrl'>>(resolverChild, 120_000),
    waitForReady<Omit<UpstreamInfo, 'resolverUrl' | 'unsignedResolverUrl' | 'upstreamPids'>>(authServerChild, 120_000)
  ])
  const upstreamInfo: UpstreamInfo = { ...resolvers, ...authServers, upstreamPids: [resolverChild.pid, authServerChild.pid] }
  return { store, nodesStore, ...upstreamInfo }
}

/** The demo data plus extraNodes more nodes, in a store of its own, at a low priority. */
export function startNodesStore (launcher: Launcher, extraNodes: number): Promise<StoreInfo> {
  return startStore(launcher, MANY_NODES_DATABASE, extraNodes, 19)
}

export interface GatewaySetup {
  database: 'main' | 'manyNodes'
  /** Point RESOLVER_URL at a closed port. */
  resolverDown?: boolean
  /** Which auth-server: tokens in the embedded store, or in memory (default). */
  tokenStore?: 'store' | 'memory'
  /** The gateway signs nothing and calls the upstreams that check no signature. */
  unsignedCalls?: boolean
  /** Config overrides, over BENCH_GATEWAY_CONFIG's. */
  config?: Record<string, unknown>
  name?: string
}

export interface RunningServer {
  child: Child
  url: string
}

/** A loopback port that nothing listens on: what a resolver that is down looks like. */
export async function closedPort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

export async function startGateway (launcher: Launcher, system: SystemInfo, setup: GatewaySetup): Promise<RunningServer & { resolverUrl: string }> {
  const unsigned = setup.unsignedCalls === true
  const resolverUrl = setup.resolverDown === true ? `http://127.0.0.1:${await closedPort()}` : unsigned ? system.unsignedResolverUrl : system.resolverUrl
  const authServerUrl = unsigned ? system.unsignedAuthServerUrl : setup.tokenStore === 'store' ? system.storeAuthServerUrl : system.authServerUrl
  const nodes = setup.database === 'manyNodes' ? system.nodesStore : undefined
  if (setup.database === 'manyNodes' && nodes === undefined) throw new Error('the store with many nodes was not started')
  const child = startChild(setup.name ?? 'gateway', process.execPath, launcher.args('bench/servers/gateway-server.ts', ['--expose-gc', ...NODE_FLAGS, ...profileFlags(setup.name ?? 'gateway')]), {
    core: SERVER_CORE,
    stdinPipe: true,
    env: {
      BENCH_STORE_URL: system.store.storeUrl,
      BENCH_DATABASE: system.store.database,
      ...(nodes !== undefined && { BENCH_NODES_STORE_URL: nodes.storeUrl, BENCH_NODES_DATABASE: nodes.database }),
      BENCH_RESOLVER_URL: resolverUrl,
      BENCH_AUTH_SERVER_URL: authServerUrl,
      ...(unsigned && { BENCH_UNSIGNED_CALLS: '1' }),
      ...(setup.config !== undefined && { BENCH_GATEWAY_CONFIG: JSON.stringify({ ...JSON.parse(process.env.BENCH_GATEWAY_CONFIG ?? '{}') as object, ...setup.config }) })
    }
  })
  const { url } = await waitForReady<{ url: string }>(child, 60_000)
  return { child, url, resolverUrl }
}

/**
 * With BENCH_PROFILE_DIR set, a server writes a V8 CPU profile of its whole life there
 * (NAME-TIME.cpuprofile, TIME its start in ms), to be read side by side with the other's (Chrome DevTools, speedscope).
 */
function profileFlags (name: string): string[] {
  const dir = process.env.BENCH_PROFILE_DIR
  if (dir === undefined || dir === '') return []
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`]
}

/** With the node flags geogate runs with, so that the comparison is of the code alone. */
export async function startBaseline (launcher: Launcher): Promise<RunningServer> {
  const child = startChild('baseline', process.execPath, launcher.args('bench/servers/baseline-server.ts', [...NODE_FLAGS, ...profileFlags('baseline')]), { core: SERVER_CORE, stdinPipe: true })
  const { url } = await waitForReady<{ url: string }>(child, 30_000)
  return { child, url }
}

/** The gateway's heap after a full collection, in MB (see reportHeapOnSignal). */
export async function heapAfterGc (gateway: Child, timeoutMs = 10_000): Promise<number> {
  const pattern = /^BENCH_HEAP (.+)$/gm
  const seen = [...gateway.stdout().matchAll(pattern)].length
  process.kill(gateway.pid, 'SIGUSR2')
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const lines = [...gateway.stdout().matchAll(pattern)]
    if (lines.length > seen) return (JSON.parse((lines[lines.length - 1] as RegExpMatchArray)[1] as string) as { heapUsedMb: number }).heapUsedMb
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`${gateway.name} did not report its heap within ${timeoutMs} ms`)
}

/**
 * Empties the store's sessions and slots, as a scenario with thousands of sessions leaves them:
 * the embedded store's writes cost more the larger a collection, so the next scenario's
 * sessions start on empty ones, as on a fresh `npm start`.
 */
export async function clearSessions (store: StoreInfo): Promise<void> {
  const connected = await connectStore({ url: store.storeUrl, database: store.database, appName: 'geogate-bench-runner' })
  try {
    await connected.collections.sessions.deleteMany({})
    await connected.collections.sessionSlots.deleteMany({})
  } finally {
    await connected.close()
  }
}
