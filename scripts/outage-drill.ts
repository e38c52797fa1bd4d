// A store outage in real minutes (`npm run outage-drill -- --outage-min 3`): real `geogate
// resolver`, `auth-server` and `gateway` processes on the embedded store, load running, the
// store killed (SIGKILL) for the given minutes and started again on the same port; then a
// table of what each kind of request got before, during and after, and how long the gateway
// took to learn the store was down and to use it again.
//
// Grants are cached for an hour here (AUTH_GRANT_TTL_MS) so that what is measured is the
// gateway's own reading of MongoDB; the auth-server, which reads tokens from the same store,
// is its own part of the outage story.

import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'
import { hashToken } from '../src/auth/token-hash.js'
import { demoNodeKey, demoNodes } from '../src/demo/demo-data.js'
import { seedDemoData } from '../src/demo/seed.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { restoreStore, saveStore } from '../src/store/data-dir.js'
import { startEmbeddedStore, type EmbeddedStore } from '../src/store/embedded.js'
import { connectStore, ensureIndexes, type Store } from '../src/store/mongo.js'

const { values: args } = parseArgs({
  options: {
    'outage-min': { type: 'string', default: '3' },
    'before-s': { type: 'string', default: '20' },
    'after-s': { type: 'string', default: '30' },
    workers: { type: 'string', default: '8' }
  }
})
const OUTAGE_MS = Number(args['outage-min']) * 60_000
const BEFORE_MS = Number(args['before-s']) * 1000
const AFTER_MS = Number(args['after-s']) * 1000
const WORKERS = Number(args.workers)
const SIGNING_KEYS = 'drill-1=HS256:geogate-outage-drill-signing-secret-0123456789'
const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
const log = (line: string): void => { process.stderr.write(`[${new Date().toISOString()}] ${line}\n`) }

function freePort (): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** The drill's processes call each other with a key made for this run. */
const DRILL_SERVICE_KEYS = `outage-drill:${randomBytes(24).toString('hex')}`

async function geogate (command: string, env: Record<string, string>): Promise<{ url: string, child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, command], {
    env: { ...process.env, LOG_LEVEL: 'error', HOST: '127.0.0.1', SERVICE_KEYS: DRILL_SERVICE_KEYS, METRICS_PORT: 'main', ...env }, stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = /listening on (http:\/\/\S+)/.exec(output)
      if (match?.[1] !== undefined) resolve(match[1])
      // What went wrong inside, printed with the table (LOG_LEVEL=error: only errors).
      for (const line of chunk.toString().split('\n')) if (line.includes('"level":50')) errorLines.push(`${command}: ${line.slice(0, 600)}`)
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => reject(new Error(`geogate ${command} exited ${code}: ${output}`)))
  })
  started.push(child)
  return { url: new URL(url).origin, child }
}

/** Error lines the drill's processes logged. */
const errorLines: string[] = []
/** Every process the drill started, ended with it whatever happens. */
const started: ChildProcess[] = []
process.on('exit', () => { for (const child of started) child.kill('SIGKILL') })

async function fill (store: Store): Promise<void> {
  await ensureIndexes(store.collections)
  await seedDemoData(store.collections)
}

type Phase = 'before' | 'outage' | 'after'
type Kind = 'warm redirect' | 'admin read' | 'heartbeat' | 'new token' | 'new server'
interface Tally { statuses: Map<string, number>, ms: number[] }
const tallies = new Map<string, Tally>()
function record (kind: Kind, phase: Phase, status: string, ms: number): void {
  const key = `${kind}|${phase}`
  let tally = tallies.get(key)
  if (tally === undefined) tallies.set(key, tally = { statuses: new Map(), ms: [] })
  tally.statuses.set(status, (tally.statuses.get(status) ?? 0) + 1)
  tally.ms.push(ms)
}

const port = await freePort()
let embedded: EmbeddedStore = await startEmbeddedStore({ port, database: 'drill' })
process.on('exit', () => { if (embedded.pid !== undefined) try { process.kill(embedded.pid, 'SIGKILL') } catch {} })
const store = await connectStore({ url: embedded.url, database: 'drill', serverSelectionTimeoutMs: 2000 })
await fill(store)
// Enough unused viewer tokens for one every 50 ms of the whole drill.
// One insertMany: the embedded store pays for each write command by the collection's size.
const freshTokens = Array.from({ length: Math.ceil((BEFORE_MS + OUTAGE_MS + AFTER_MS) / 50) + 100 }, () => randomBytes(24).toString('base64url'))
// And one that may view any camera, known to the gateway before the outage, for servers it has
// never looked up.
const wideToken = randomBytes(24).toString('base64url')
await store.collections.tokens.insertMany([...freshTokens.map((token) => ({
  _id: hashToken(token), owner_type: 'account', owner_id: 'acct-demo', grants: [{ object_type: 'camera', object_id: 'UIN-DEMO-1/*', rights: ['view'] }], expires_at: null
})), { _id: hashToken(wideToken), owner_type: 'account', owner_id: 'acct-demo', grants: [{ object_type: 'camera', object_id: '*', rights: ['view'] }], expires_at: null }])
const resolver = await geogate('resolver', { RESOLVER_PORT: '0' })
const authServer = await geogate('auth-server', { AUTH_SERVER_PORT: '0', MONGODB_URL: embedded.url, MONGODB_DB: 'drill' })
const gateway = await geogate('gateway', {
  GATEWAY_PORT: '0',
  MONGODB_URL: embedded.url,
  MONGODB_DB: 'drill',
  SIGNING_KEYS,
  RESOLVER_URL: resolver.url,
  AUTH_SERVER_URL: authServer.url,
  TRUSTED_PROXIES: '127.0.0.1/32',
  AUTH_GRANT_TTL_MS: '3600000'
})
log(`gateway ${gateway.url}, store on port ${port}`)
const pool = new Pool(gateway.url, { connections: WORKERS + 4 })

let phase: Phase = 'before'
const drill = { running: true }
async function timed (kind: Kind, run: () => Promise<{ statusCode: number, headers?: Record<string, unknown>, body: { json: () => Promise<unknown>, dump: () => Promise<void> } }>): Promise<void> {
  const started = performance.now()
  let status: string
  const at = phase
  try {
    const answer = await run()
    if (answer.statusCode >= 400) {
      const body = await answer.body.json().catch(() => ({})) as { error?: { code?: string } }
      const retryAfter = answer.statusCode === 503 && answer.headers?.['retry-after'] === undefined ? ' without Retry-After' : ''
      status = `${answer.statusCode} ${body.error?.code ?? ''}${retryAfter}`.trim()
      if (body.error?.code === 'GW_NO_NODE' && noNodeSeen++ < 3) log(`${kind}: GW_NO_NODE ${JSON.stringify(body.error)}`)
    } else {
      await answer.body.dump()
      status = String(answer.statusCode)
    }
  } catch (err) {
    status = (err as { code?: string }).code ?? 'error'
  }
  record(kind, at, status, performance.now() - started)
}

let noNodeSeen = 0
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const clients = ['77.88.8.8', '81.2.69.160', '5.255.255.5', '2.16.20.1']
const cameras = ['cam-1', 'cam-2']
async function warmWorker (i: number): Promise<void> {
  for (let n = i; drill.running; n++) {
    const ip = clients[n % clients.length] ?? ''
    const camera = cameras[(n >> 2) % cameras.length] ?? ''
    await timed('warm redirect', async () => await pool.request({
      path: `/flv?server=UIN-DEMO-1&camera=${camera}&access_token=demo-viewer-token`, method: 'GET', headers: { 'x-forwarded-for': ip }, headersTimeout: 30_000
    }))
  }
}
// Requests the gateway has not answered before: a token it has never seen (it exists in the
// store, so the auth-server must read it), and a server it has never looked up. During the
// outage both must get a quick 503 GW_DEPENDENCY_DOWN with Retry-After.
async function newTokenWorker (): Promise<void> {
  for (let n = 0; drill.running && n < freshTokens.length; n++) {
    await timed('new token', async () => await pool.request({
      path: `/flv?server=UIN-DEMO-1&camera=cam-1&access_token=${freshTokens[n] ?? ''}`, method: 'GET', headers: { 'x-forwarded-for': '77.88.8.8' }, headersTimeout: 30_000
    }))
    await sleep(50)
  }
}
async function newServerWorker (): Promise<void> {
  for (let n = 0; drill.running; n++) {
    await timed('new server', async () => await pool.request({
      path: `/flv?server=UIN-NEW-${n}&camera=cam-1&access_token=${wideToken}`, method: 'GET', headers: { 'x-forwarded-for': '77.88.8.8' }, headersTimeout: 30_000
    }))
    await sleep(50)
  }
}
async function adminWorker (): Promise<void> {
  while (drill.running) {
    await timed('admin read', async () => await pool.request({ path: '/api/v1/nodes', method: 'GET', headers: { authorization: 'Bearer demo-admin-token' }, headersTimeout: 30_000 }))
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
async function heartbeats (): Promise<void> {
  while (drill.running) {
    await Promise.all(demoNodes.map(async (node) => {
      await timed('heartbeat', async () => await pool.request({
        path: `/api/v1/nodes/${node._id}/heartbeat`,
        method: 'POST',
        headersTimeout: 30_000,
        headers: { authorization: `Bearer ${demoNodeKey(node._id)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sessions: 0, mbps: 0, cpu: 0 })
      }))
    }))
    await new Promise((resolve) => setTimeout(resolve, 3000))
  }
}
async function readiness (): Promise<{ status: number, body: { status?: string } }> {
  const answer = await pool.request({ path: '/readyz', method: 'GET' })
  return { status: answer.statusCode, body: await answer.body.json() as { status?: string } }
}

// The nodes' heartbeats first: until a node has sent one it gets no viewers. Then a warm-up
// pass, uncounted: each client and camera answered once before the clock starts.
const beating = heartbeats()
for (const ip of clients) {
  for (const camera of cameras) {
    for (let i = 0; i < 100; i++) {
      const answer = await pool.request({ path: `/flv?server=UIN-DEMO-1&camera=${camera}&access_token=demo-viewer-token`, method: 'GET', headers: { 'x-forwarded-for': ip } })
      await answer.body.dump()
      if (answer.statusCode === 302) break
      await sleep(200)
    }
  }
}
// The wide token's rights, learned before the clock starts (a server it may not know is a 404).
await (await pool.request({ path: `/flv?server=UIN-DEMO-1&camera=cam-1&access_token=${wideToken}`, method: 'GET', headers: { 'x-forwarded-for': '77.88.8.8' } })).body.dump()
const load = [beating, adminWorker(), newTokenWorker(), newServerWorker(), ...Array.from({ length: WORKERS }, async (_, i) => await warmWorker(i))]
await sleep(BEFORE_MS)

// The embedded store keeps nothing; a MongoDB comes back with its data, heartbeats as old as
// the outage included. Kept here to put back after the restart.
const kept = await mkdtemp(path.join(tmpdir(), 'geogate-drill-'))
await saveStore(store.collections, kept)
log(`killing the store (pid ${embedded.pid ?? '?'}) for ${OUTAGE_MS / 60_000} min`)
const killedAt = performance.now()
phase = 'outage'
process.kill(embedded.pid ?? 0, 'SIGKILL')
let degradedAfter: number | undefined
while (performance.now() - killedAt < OUTAGE_MS) {
  if (degradedAfter === undefined && (await readiness()).body.status === 'degraded') degradedAfter = performance.now() - killedAt
  await sleep(100)
}
const ready = await readiness()
log(`end of the outage: /readyz ${ready.status} ${JSON.stringify(ready.body)}`)

embedded = await startEmbeddedStore({ port, database: 'drill' })
const restartedAt = performance.now()
phase = 'after'
for (;;) {
  try {
    await ensureIndexes(store.collections)
    await restoreStore(store.collections, kept)
    break
  } catch { await sleep(100) }
}
await rm(kept, { recursive: true, force: true })
let adminBackAfter: number | undefined
let readyAfter: number | undefined
while (performance.now() - restartedAt < AFTER_MS) {
  if (readyAfter === undefined && (await readiness()).body.status === 'ready') readyAfter = performance.now() - restartedAt
  if (adminBackAfter === undefined) {
    const answer = await pool.request({ path: '/api/v1/nodes', method: 'GET', headers: { authorization: 'Bearer demo-admin-token' } })
    await answer.body.dump()
    if (answer.statusCode === 200) adminBackAfter = performance.now() - restartedAt
  }
  await sleep(100)
}
drill.running = false
await Promise.all(load)

const percentile = (ms: number[], p: number): number => ms.sort((a, b) => a - b)[Math.min(ms.length - 1, Math.floor(ms.length * p))] ?? NaN
const rows = [...tallies.entries()].map(([key, tally]) => {
  const [kind, at] = key.split('|')
  const statuses = [...tally.statuses.entries()].map(([s, n]) => `${s}: ${n}`).join(', ')
  return `| ${kind ?? ''} | ${at ?? ''} | ${tally.ms.length} | ${statuses} | ${percentile(tally.ms, 0.5).toFixed(1)} | ${percentile(tally.ms, 0.99).toFixed(1)} | ${tally.ms.reduce((a, b) => Math.max(a, b), 0).toFixed(1)} |`
})
process.stdout.write([
  `store killed for ${(OUTAGE_MS / 60_000).toFixed(1)} min; /readyz degraded ${degradedAfter?.toFixed(0) ?? 'never'} ms after the kill;`,
  `after the restart: admin reads answered ${adminBackAfter?.toFixed(0) ?? 'never'} ms, /readyz ready ${readyAfter?.toFixed(0) ?? 'never'} ms after it`,
  '',
  '| request | phase | count | answers | p50 ms | p99 ms | max ms |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...rows.sort(),
  '',
  errorLines.length === 0 ? 'No process logged an error.' : `Errors the processes logged (${errorLines.length}):`,
  ...errorLines.slice(0, 20),
  ''
].join('\n'))

await pool.close()
for (const child of [gateway.child, authServer.child, resolver.child]) child.kill('SIGTERM')
await store.close()
await embedded.stop()
