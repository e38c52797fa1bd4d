// The gateway's upstreams, in processes the runner keeps off the gateway's core, one process
// for the resolvers and one for the auth-servers, as production runs them apart: a busy
// auth-server does not make the resolver late (and the gateway fall back) in the same event loop.
//
// BENCH_UPSTREAMS=resolvers: the real geo-resolver (bundled GeoLite2-City) on loopback.
// BENCH_UPSTREAMS=auth-servers: the real auth-server app, knowing the demo tokens and
// `bench-token-<n>` for n below BENCH_TOKENS, held in memory (see memory-tokens.ts for why not
// in the embedded store); and a second one, the one the realistic mixes use, that reads its
// tokens from the embedded store and keeps the nonces of signed calls in memory, as
// `npm start` does.
// These answer only calls signed with BENCH_SERVICE_KEYS, as the gateway-server makes them;
// each process also runs one that checks no signature (the cold-unsigned scenario).
// Prints `BENCH_READY` with {resolverUrl, unsignedResolverUrl} or {authServerUrl,
// storeAuthServerUrl, unsignedAuthServerUrl, tokens}.
//
// env: BENCH_UPSTREAMS; BENCH_TOKENS (default 200,000); BENCH_STORE_URL and BENCH_DATABASE.

import { AUTH_SERVER_BODY_LIMIT, authServerApp } from '../../src/auth-server/app.js'
import { createAuthService } from '../../src/commands/auth-server.js'
import { createResolverService } from '../../src/commands/resolver.js'
import { signedCallsOf } from '../../src/http/service-keys.js'
import { loadConfig, type Config } from '../../src/config.js'
import { resolverApp } from '../../src/resolver/app.js'
import { buildApp, listen } from '../../src/server.js'
import { demoTokenDocs } from '../../src/demo/demo-data.js'
import { BENCH_SERVICE_KEYS, BENCH_SIGNING_KEYS, benchTokenDocs } from './bench-data.js'
import { createStoreNonceLedger } from '../../src/signing/nonce-ledger.js'
import { parseServiceKeys } from '../../src/signing/service-request.js'
import { announceReady, closeOnShutdown, failStart, type Closer } from './lifecycle.js'
import { memoryNonceCollection } from './memory-nonces.js'
import { memoryTokenCollection } from './memory-tokens.js'
import { connectStore } from '../../src/store/mongo.js'

const role = process.env.BENCH_UPSTREAMS ?? ''
const NAME = `bench ${role}`
const closers: Closer[] = []
const shutdown = closeOnShutdown(closers, NAME)

function required (name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`${name} is required`)
  return value
}

async function serve (app: Awaited<ReturnType<typeof buildApp>>): Promise<string> {
  closers.push(() => app.close())
  return new URL(await listen(app, '127.0.0.1', 0)).origin
}

async function resolvers (config: Config): Promise<void> {
  const resolverUrl = await serve(await createResolverService(config))
  const unsignedResolverUrl = await serve(await buildApp(resolverApp, { cityDatabasePath: config.cityDatabase, signedCalls: false }, { bodyLimit: 1024 }))
  announceReady({ resolverUrl, unsignedResolverUrl })
}

async function authServers (config: Config): Promise<void> {
  const raw = process.env.BENCH_TOKENS ?? '200000'
  const tokens = Number(raw)
  if (!Number.isInteger(tokens) || tokens < 1) throw new Error(`BENCH_TOKENS must be a positive whole number, got ${raw}`)
  const tokenDocs = [...demoTokenDocs, ...benchTokenDocs(0, tokens)]

  // createAuthService(config, store) is this call with store.collections.tokens and
  // store.collections.serviceNonces (MongoDB's inserts, here in memory too).
  const authServerUrl = await serve(await buildApp(authServerApp, {
    tokens: memoryTokenCollection(tokenDocs),
    signedCalls: signedCallsOf(config, 'auth-server', createStoreNonceLedger(memoryNonceCollection()))
  }, { bodyLimit: AUTH_SERVER_BODY_LIMIT }))

  const store = await connectStore({ url: required('BENCH_STORE_URL'), database: required('BENCH_DATABASE'), appName: 'geogate-bench-auth-server' })
  closers.push(store.close)
  // As `geogate dev` runs its one auth-server: the nonces of signed calls in memory.
  const storeAuthServerUrl = await serve(await createAuthService({ ...config, serviceNonces: 'memory' }, store))

  const unsignedAuthServerUrl = await serve(await buildApp(authServerApp, { tokens: memoryTokenCollection(tokenDocs), signedCalls: false }, { bodyLimit: AUTH_SERVER_BODY_LIMIT }))
  announceReady({ authServerUrl, storeAuthServerUrl, unsignedAuthServerUrl, tokens })
}

async function main (): Promise<void> {
  const config = loadConfig({}, { logLevel: 'silent', signingKeys: BENCH_SIGNING_KEYS, serviceKeys: parseServiceKeys(BENCH_SERVICE_KEYS) })
  if (role === 'resolvers') await resolvers(config)
  else if (role === 'auth-servers') await authServers(config)
  else throw new Error(`BENCH_UPSTREAMS must be resolvers or auth-servers, got ${JSON.stringify(role)}`)
}

main().catch((err: unknown) => failStart(NAME, err, shutdown))
