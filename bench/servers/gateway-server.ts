// The gateway under test, alone in its process so the runner can pin it to a core: the real
// gateway (createGateway) over the store, resolver and auth-server the runner started.
// Prints `BENCH_READY {url, pid}`.
//
// env: BENCH_STORE_URL, BENCH_DATABASE, BENCH_RESOLVER_URL, BENCH_AUTH_SERVER_URL; optionally
// BENCH_GATEWAY_CONFIG, a JSON object of Config overrides to try a setting under load
// (`BENCH_GATEWAY_CONFIG='{"billingCacheTtlMs":60000}' npm run bench -- --scenario warm`);
// BENCH_UNSIGNED_CALLS=1, calls signed by nothing, for upstreams that check nothing; and
// BENCH_NODES_STORE_URL and BENCH_NODES_DATABASE: a second store to read the node
// documents from. The embedded store answers other queries only after a reload of thousands
// of nodes (about a second there, tens of milliseconds in MongoDB), so the large-snapshot
// scenario keeps its nodes in a store of their own, as MongoDB would not make the gateway's
// account and server lookups wait behind that read.

import { loadConfig, type Config } from '../../src/config.js'
import { createGateway } from '../../src/gateway.js'
import { listen } from '../../src/server.js'
import { connectStore, type Store } from '../../src/store/mongo.js'
import { parseServiceKeys } from '../../src/signing/service-request.js'
import { BENCH_SERVICE_KEYS, BENCH_SIGNING_KEYS } from './bench-data.js'
import { announceReady, closeOnShutdown, failStart, reportHeapOnSignal, type Closer } from './lifecycle.js'

const NAME = 'bench gateway'
const closers: Closer[] = []
const shutdown = closeOnShutdown(closers, NAME)
reportHeapOnSignal()

function required (name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`${name} is required`)
  return value
}

function configOverrides (): Partial<Config> {
  const raw = process.env.BENCH_GATEWAY_CONFIG
  if (raw === undefined || raw === '') return {}
  const parsed: unknown = JSON.parse(raw)
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('BENCH_GATEWAY_CONFIG must be a JSON object')
  return parsed as Partial<Config>
}

async function main (): Promise<void> {
  const store = await connectStore({ url: required('BENCH_STORE_URL'), database: required('BENCH_DATABASE'), appName: 'geogate-bench-gateway' })
  closers.push(store.close)
  let gatewayStore: Store = store
  const nodesUrl = process.env.BENCH_NODES_STORE_URL
  if (nodesUrl !== undefined && nodesUrl !== '') {
    const nodesStore = await connectStore({ url: nodesUrl, database: required('BENCH_NODES_DATABASE'), appName: 'geogate-bench-gateway' })
    closers.push(nodesStore.close)
    gatewayStore = { ...store, collections: { ...store.collections, nodes: nodesStore.collections.nodes } }
  }
  const config = loadConfig({}, {
    logLevel: 'silent',
    gatewayId: 'gw-bench',
    signingKeys: BENCH_SIGNING_KEYS,
    serviceKeys: parseServiceKeys(BENCH_SERVICE_KEYS),
    // wrk connects from loopback; its X-Forwarded-For plays the client.
    trustedProxies: ['127.0.0.0/8'],
    ...configOverrides(),
    resolverUrl: required('BENCH_RESOLVER_URL'),
    authServerUrl: required('BENCH_AUTH_SERVER_URL')
  })
  const gateway = await createGateway({ config, store: gatewayStore, signCalls: process.env.BENCH_UNSIGNED_CALLS !== '1' })
  closers.push(gateway.close)
  const url = await listen(gateway.app, '127.0.0.1', 0)
  announceReady({ url, pid: process.pid })
}

main().catch((err: unknown) => failStart(NAME, err, shutdown))
