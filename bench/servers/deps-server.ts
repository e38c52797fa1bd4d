// The gateway's upstreams, in a process the runner keeps off the gateway's core: the real
// geo-resolver (bundled GeoLite2-City) and the real auth-server app, both on loopback. The
// auth-server knows the demo tokens and `bench-token-<n>` for n below BENCH_TOKENS, held in
// memory (see memory-tokens.ts for why not in the embedded store). A second auth-server, the
// one the realistic mixes use, reads its tokens from the embedded store, as `npm start` does,
// and keeps the nonces of signed calls in memory, as `npm start` does.
// All answer only calls signed with BENCH_SERVICE_KEYS, as the gateway-server makes them.
// Prints `BENCH_READY {resolverUrl, authServerUrl, storeAuthServerUrl, tokens}`.
//
// env: BENCH_TOKENS (default 200,000); BENCH_STORE_URL and BENCH_DATABASE, the store.

import { AUTH_SERVER_BODY_LIMIT, authServerApp } from '../../src/auth-server/app.js'
import { createAuthService } from '../../src/commands/auth-server.js'
import { createResolverService } from '../../src/commands/resolver.js'
import { signedCallsOf } from '../../src/commands/signed-calls.js'
import { loadConfig } from '../../src/config.js'
import { buildApp, listen } from '../../src/server.js'
import { demoTokenDocs } from '../../src/demo/demo-data.js'
import { BENCH_SERVICE_KEYS, BENCH_SIGNING_KEYS, benchTokenDocs } from './bench-data.js'
import { createStoreNonceLedger } from '../../src/signing/nonce-ledger.js'
import { parseServiceKeys } from '../../src/signing/service-request.js'
import { announceReady, closeOnShutdown, failStart, type Closer } from './lifecycle.js'
import { memoryNonceCollection } from './memory-nonces.js'
import { memoryTokenCollection } from './memory-tokens.js'
import { connectStore } from '../../src/store/mongo.js'

const NAME = 'bench upstreams'
const closers: Closer[] = []
const shutdown = closeOnShutdown(closers, NAME)

function required (name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`${name} is required`)
  return value
}

async function main (): Promise<void> {
  const raw = process.env.BENCH_TOKENS ?? '200000'
  const tokens = Number(raw)
  if (!Number.isInteger(tokens) || tokens < 1) throw new Error(`BENCH_TOKENS must be a positive whole number, got ${raw}`)
  const config = loadConfig({}, { logLevel: 'silent', signingKeys: BENCH_SIGNING_KEYS, serviceKeys: parseServiceKeys(BENCH_SERVICE_KEYS) })

  const resolver = await createResolverService(config)
  closers.push(() => resolver.close())
  const resolverUrl = await listen(resolver, '127.0.0.1', 0)

  // createAuthService(config, store) is this call with store.collections.tokens and
  // store.collections.serviceNonces (MongoDB's inserts, here in memory too).
  const auth = await buildApp(authServerApp, {
    tokens: memoryTokenCollection([...demoTokenDocs, ...benchTokenDocs(0, tokens)]),
    signedCalls: signedCallsOf(config, 'auth-server', createStoreNonceLedger(memoryNonceCollection()))
  }, { bodyLimit: AUTH_SERVER_BODY_LIMIT })
  closers.push(() => auth.close())
  const authServerUrl = await listen(auth, '127.0.0.1', 0)

  const store = await connectStore({ url: required('BENCH_STORE_URL'), database: required('BENCH_DATABASE'), appName: 'geogate-bench-auth-server' })
  closers.push(store.close)
  // As `geogate dev` runs its one auth-server: the nonces of signed calls in memory.
  const storeAuth = await createAuthService({ ...config, serviceNonces: 'memory' }, store)
  closers.push(() => storeAuth.close())
  const storeAuthServerUrl = await listen(storeAuth, '127.0.0.1', 0)

  announceReady({ resolverUrl: new URL(resolverUrl).origin, authServerUrl: new URL(authServerUrl).origin, storeAuthServerUrl: new URL(storeAuthServerUrl).origin, tokens })
}

main().catch((err: unknown) => failStart(NAME, err, shutdown))
