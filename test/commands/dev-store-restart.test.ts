// `geogate dev` when its embedded store is SIGKILLed under load: warm redirects, new tokens
// issued and used, and admin writes at 20/s go on through the store's restart. Every write dev
// acknowledged must be readable afterwards, no warm redirect may change its answer, no demo
// heartbeat may be refused, and a SIGTERM afterwards neither restarts the store nor loses the
// final save. A child process, since a process boundary and a killed store are what it tests.

import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { MongoClient } from 'mongodb'
import { request } from 'undici'
import { demoNodeKey } from '../../src/demo/demo-data.js'
import { startGeogate, type GeogateProcess } from '../helpers/processes.js'

const banner = /curl -si[^\n]*'(http:\/\/[^/]+)\/flv/
const admin = { authorization: 'Bearer demo-admin-token', 'content-type': 'application/json' }

interface Answer { status: number, code?: string, body: string }

async function call (url: string, options: { method?: 'GET' | 'POST', headers?: Record<string, string>, body?: unknown } = {}): Promise<Answer> {
  const res = await request(url, {
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
    headersTimeout: 10_000,
    bodyTimeout: 10_000
  })
  const body = await res.body.text()
  let code: string | undefined
  try { code = (JSON.parse(body) as { error?: { code?: string } }).error?.code } catch {}
  return { status: res.statusCode, body, ...(code !== undefined && { code }) }
}

async function until (what: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await Promise.resolve().then(what).catch(() => false)) return true
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return false
}

/** Runs fn every `ms` until stop() without waiting for the previous call; all() waits for every call. */
function every (ms: number, fn: (n: number) => Promise<void>): { stop: () => void, all: () => Promise<unknown> } {
  const calls: Array<Promise<void>> = []
  let n = 0
  const tick = (): void => { calls.push(fn(n++).catch(() => {})) }
  tick()
  const timer = setInterval(tick, ms)
  return { stop: () => clearInterval(timer), all: async () => await Promise.all(calls) }
}

const storePid = (output: string): number => Number(/embedded store on \S+ \(pid (\d+)\)/.exec(output)?.[1])
const storeUrl = (output: string): string => /store\s+(mongodb:\/\/\S+)/.exec(output)?.[1] ?? ''

async function startDev (t: Test, dir: string): Promise<GeogateProcess> {
  return await startGeogate(t, 'dev', { GATEWAY_PORT: '0', RESOLVER_PORT: '0', AUTH_SERVER_PORT: '0', MONGODB_URL: '', DATA_DIR: dir }, { readyPattern: banner, timeoutMs: 60_000 })
}

async function tempDir (t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'geogate-dev-restart-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

t.test('a store SIGKILLed under load loses no acknowledged write and changes no warm answer', async (t) => {
  const dir = await tempDir(t)
  const dev = await startDev(t, dir)
  const flv = (camera: string, token: string): string => `${dev.url}/flv?server=UIN-DEMO-1&camera=${camera}&access_token=${token}`
  // Warm: the same requests answered before the kill, from a client in Moscow and one in London.
  const warm = [
    { url: flv('cam-1', 'demo-viewer-token'), headers: { 'x-forwarded-for': '77.88.8.8' } },
    { url: flv('cam-2', 'demo-viewer-token'), headers: { 'x-forwarded-for': '81.2.69.160' } }
  ]
  t.ok(await until(async () => (await Promise.all(warm.map(async (w) => (await call(w.url, w)).status === 302))).every(Boolean), 15_000), 'the warm requests redirect')

  const warmAnswers: Array<Answer & { at: number }> = []
  const written: Array<{ id: string, answer: Answer, at: number }> = []
  const tokens: Array<{ token: string, answer: Answer, firstUse?: Answer }> = []
  const beats: Array<Answer & { at: number }> = []
  const outputBefore = dev.output().length
  const started = performance.now()
  const since = (): number => Math.round(performance.now() - started)

  const warmLoad = every(25, async (n) => {
    const w = warm[n % warm.length]!
    warmAnswers.push({ ...await call(w.url, w), at: since() })
  })
  const writes = every(50, async (n) => {
    const id = `partner-load-${n}`
    written.push({ id, answer: await call(`${dev.url}/api/v1/partners`, { method: 'POST', headers: admin, body: { _id: id, name: `Load ${n}`, pattern_fallbacks: {} } }), at: since() })
  })
  const issue = every(200, async () => {
    const answer = await call(`${dev.url}/api/v1/tokens`, {
      method: 'POST', headers: admin, body: { owner_type: 'account', owner_id: 'acct-demo', grants: [{ object_type: 'camera', object_id: 'UIN-DEMO-1/*', rights: ['view'] }] }
    })
    const entry: { token: string, answer: Answer, firstUse?: Answer } = { token: answer.status === 201 ? (JSON.parse(answer.body) as { token: string }).token : '', answer }
    tokens.push(entry)
    if (entry.token !== '') entry.firstUse = await call(flv('cam-1', entry.token), { headers: { 'x-forwarded-for': '77.88.8.8' } })
  })

  // A node beating ten times a second, beside dev's demo nodes (every 5 s): heartbeats go on
  // through the restart too.
  const heartbeat = every(100, async () => {
    const answer = await call(`${dev.url}/api/v1/nodes/node-us-1/heartbeat`, {
      method: 'POST', headers: { authorization: `Bearer ${demoNodeKey('node-us-1')}`, 'content-type': 'application/json' }, body: { sessions: 0, mbps: 0, cpu: 0 }
    })
    beats.push({ ...answer, at: since() })
  })

  // The kill lands while writes are being acknowledged and tokens issued.
  t.ok(await until(() => written.filter((w) => w.answer.status === 201).length >= 5 && tokens.some((x) => x.token !== ''), 20_000), 'writes are acknowledged under load')
  const pid = storePid(dev.output())
  t.ok(pid > 0, `the store's pid is logged (${pid})`)
  const killedAt = since()
  process.kill(pid, 'SIGKILL')
  t.ok(await until(() => /embedded store restarted/.test(dev.output()), 20_000), 'dev restarts the store')
  const restartedAt = since()
  // Load goes on on the new store: a few seconds, and until it acknowledges writes again.
  await new Promise((resolve) => setTimeout(resolve, 4000))
  await until(() => written.some((w) => w.at > restartedAt && w.answer.status === 201), 10_000)
  for (const load of [warmLoad, writes, issue, heartbeat]) load.stop()
  await Promise.all([warmLoad.all(), writes.all(), issue.all(), heartbeat.all()])
  t.comment(`killed at ${killedAt} ms, restarted at ${restartedAt} ms, load until ${since()} ms`)

  const tally = (answers: Answer[]): string => JSON.stringify(answers.reduce<Record<string, number>>((counts, a) => {
    const key = `${a.status}${a.code === undefined ? '' : ` ${a.code}`}`
    counts[key] = (counts[key] ?? 0) + 1
    return counts
  }, {}))
  t.comment(`warm: ${tally(warmAnswers)}; writes: ${tally(written.map((w) => w.answer))}; tokens: ${tally(tokens.map((x) => x.answer))}; first use: ${tally(tokens.flatMap((x) => x.firstUse ?? []))}; heartbeats: ${tally(beats)}`)

  t.ok(warmAnswers.length > 100, `warm requests went on (${warmAnswers.length})`)
  t.same(warmAnswers.filter((a) => a.status !== 302).map((a) => `${a.at} ms: ${a.status} ${a.code ?? ''}`), [], 'every warm request redirected, as before the kill')

  const acked = written.filter((w) => w.answer.status === 201)
  t.ok(acked.some((w) => w.at > restartedAt), 'writes are acknowledged again after the restart')
  t.ok(written.every((w) => w.answer.status === 201 || (w.answer.status === 503 && w.answer.code === 'GW_DEPENDENCY_DOWN')),
    'a write is either acknowledged or refused with 503 GW_DEPENDENCY_DOWN')
  const lost: string[] = []
  for (const w of acked) {
    if ((await call(`${dev.url}/api/v1/partners/${w.id}`, { headers: admin })).status !== 200) lost.push(`${w.id} (acknowledged at ${w.at} ms)`)
  }
  t.same(lost, [], `every acknowledged write is readable (${acked.length} of ${written.length} acknowledged)`)

  const issued = tokens.filter((x) => x.token !== '')
  t.ok(issued.length > 0, 'tokens were issued')
  const refused: string[] = []
  for (const x of issued) {
    const use = await call(flv('cam-1', x.token), { headers: { 'x-forwarded-for': '77.88.8.8' } })
    if (use.status !== 302) refused.push(`${use.status} ${use.code ?? ''}`)
  }
  t.same(refused, [], 'every issued token is honoured afterwards')

  const demoFailures = dev.output().slice(outputBefore).split('\n').filter((line) => line.includes('demo heartbeat failed'))
  t.ok(beats.length > 20, `heartbeats went on (${beats.length})`)
  const refusedBeats = beats.filter((b) => b.status !== 200).map((b) => `${b.at} ms: ${b.status} ${b.body}`)
  // An empty store made the gateway refuse every node as unknown (401) until the next save; a
  // beat whose lease renewal met the outage was a 503.
  t.same(refusedBeats, [], 'no heartbeat was refused')
  t.same(demoFailures, [], 'no demo heartbeat was refused')

  // What dev logged, for whoever reads a failure.
  if (!t.passing()) t.comment(dev.output())

  // A write the admin API did not make (as `geogate token` against the store URL would): only
  // the final save at shutdown keeps it, on a store that was restarted.
  const client = new MongoClient(storeUrl(dev.output()), { serverSelectionTimeoutMS: 5000 })
  await client.connect()
  await client.db().collection('partners').insertOne({ _id: 'partner-direct' as never, name: 'Direct', pattern_fallbacks: {} })
  await client.close()

  const before = dev.output().length
  t.equal(await dev.stop('SIGTERM'), 0, 'dev exits 0 on SIGTERM')
  const shutdown = dev.output().slice(before)
  t.notMatch(shutdown, /restarting/, 'no store restart during the shutdown')
  t.match(shutdown, /saved \d+ documents to /, 'the final save ran')
  t.match(await readFile(path.join(dir, 'store.json'), 'utf8'), /partner-direct/, 'and kept the direct write')
})
