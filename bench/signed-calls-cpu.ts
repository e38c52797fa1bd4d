// CPU per call that signed service calls cost the services (README, "Signed service calls"):
// the real auth-server app (tokens and seen nonces in memory, as in the bench) and the real
// resolver app, each in a process of its own, answer the same stream of signed calls once
// checking signatures and once not; the process's own CPU time per call (user + system, from
// process.cpuUsage, so a busy machine's waits do not count) is compared. Run alone:
//   node --import tsx bench/signed-calls-cpu.ts [calls]
// env: ROUNDS (default 3; the best of them is kept), SERVICES (default auth-server,resolver),
// BATCH (default 1; more: each call is a POST /introspect/batch or /resolve/batch of that many,
// as a gateway sends under load), PROFILE_DIR (write a CPU profile of each service process there).
// Prints µs of CPU per call for each; asserts nothing.

import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Pool } from 'undici'
import { authServerApp } from '../src/auth-server/app.js'
import { openCityDatabase, defaultCityDatabasePath } from '../src/geo/maxmind-lookup.js'
import { resolverApp } from '../src/resolver/app.js'
import { buildApp } from '../src/server.js'
import { createMemoryNonceLedger, createStoreNonceLedger } from '../src/signing/nonce-ledger.js'
import { createServiceSigner, parseServiceKeys } from '../src/signing/service-request.js'
import { demoTokenDocs } from '../src/demo/demo-data.js'
import { BENCH_SERVICE_KEYS, benchToken, benchTokenDocs } from './servers/bench-data.js'
import { memoryNonceCollection } from './servers/memory-nonces.js'
import { memoryTokenCollection } from './servers/memory-tokens.js'

const keys = parseServiceKeys(BENCH_SERVICE_KEYS)
const TOKENS = 20_000
const BATCH = Number(process.env.BATCH ?? 1)

async function serve (service: string, signed: boolean): Promise<void> {
  const app = service === 'auth-server'
    ? await buildApp(authServerApp, {
      tokens: memoryTokenCollection([...demoTokenDocs, ...benchTokenDocs(0, TOKENS)]),
      signedCalls: signed && { keys, clockSkewS: 30, nonces: createStoreNonceLedger(memoryNonceCollection()) }
    })
    : await buildApp(resolverApp, {
      databases: { city: await openCityDatabase(defaultCityDatabasePath()) },
      signedCalls: signed && { keys, clockSkewS: 30, nonces: createMemoryNonceLedger() }
    })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  let mark = process.cpuUsage()
  process.on('message', (message) => {
    if (message === 'mark') {
      mark = process.cpuUsage()
      process.send?.('marked')
    } else if (message === 'usage') {
      const used = process.cpuUsage(mark)
      process.send?.({ cpuUs: used.user + used.system })
    } else {
      void app.close().then(() => process.exit(0))
    }
  })
  process.send?.({ url })
}

function ask<T> (child: ReturnType<typeof fork>, message: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (answer) => resolve(answer as T))
    child.send(message)
  })
}

async function measure (service: string, signed: boolean, calls: number): Promise<number> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', service, String(signed)], { execArgv: ['--import', 'tsx', ...(process.env.PROFILE_DIR !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROFILE_DIR}`] : [])] })
  const { url } = await new Promise<{ url: string }>((resolve) => child.once('message', (m) => resolve(m as { url: string })))
  const pool = new Pool(url, { connections: 16 })
  const sign = createServiceSigner(keys[0] ?? { id: '', secret: '' })
  let n = 0
  async function one (): Promise<void> {
    const i = n++
    const res = BATCH > 1
      ? await (async () => {
        const path = service === 'auth-server' ? '/introspect/batch' : '/resolve/batch'
        const keys = Array.from({ length: BATCH }, (_, k) => i * BATCH + k)
        const body = JSON.stringify(service === 'auth-server'
          ? { tokens: keys.map((k) => benchToken(k % TOKENS)) }
          : { ips: keys.map((k) => `5.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`) })
        return await pool.request({ method: 'POST', path, headers: { 'content-type': 'application/json', ...sign('POST', path, body) }, body })
      })()
      : service === 'auth-server'
        ? await (async () => {
          const body = JSON.stringify({ token: benchToken(i % TOKENS), rights: 'view', object_type: 'camera', object_id: 'UIN-DEMO-1/cam-1' })
          return await pool.request({ method: 'POST', path: '/authorize', headers: { 'content-type': 'application/json', ...sign('POST', '/authorize', body) }, body })
        })()
        : await (async () => {
          const path = `/resolve?ip=5.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
          return await pool.request({ method: 'GET', path, headers: sign('GET', path) })
        })()
    await res.body.dump()
    if (res.statusCode !== 200 && res.statusCode !== 404) throw new Error(`${service} answered ${res.statusCode}`)
  }
  async function run (count: number): Promise<void> {
    const end = n + count
    await Promise.all(Array.from({ length: 32 }, async () => { while (n < end) await one() }))
  }
  await run(Math.min(20_000, calls))
  await ask(child, 'mark')
  await run(calls)
  const { cpuUs } = await ask<{ cpuUs: number }>(child, 'usage')
  child.send('close')
  await pool.close()
  return cpuUs / calls
}

if (process.argv[2] === '--serve') {
  await serve(process.argv[3] ?? '', process.argv[4] === 'true')
} else {
  const calls = Number(process.argv[2] ?? 50_000)
  const result: Record<string, number> = {}
  // Alternated, so that a change in the machine's load falls on both.
  for (let round = 0; round < Number(process.env.ROUNDS ?? 3); round++) {
    for (const service of (process.env.SERVICES ?? 'auth-server,resolver').split(',')) {
      for (const signed of [false, true]) {
        const us = await measure(service, signed, calls)
        const name = `${service} ${signed ? 'signed' : 'unsigned'}`
        result[name] = Math.min(result[name] ?? Infinity, Math.round(us * 10) / 10)
      }
    }
  }
  process.stdout.write(JSON.stringify({ cpuUsPerCallBestOf3: result }, null, 2) + '\n')
}
