// Three `geogate gateway` processes behind a real haproxy (Debian's), with deploy/haproxy/
// haproxy.cfg as docs/deploy.md gives it, on one store, one resolver and one auth-server. Bounded
// load goes through haproxy on loopback while one gateway is killed with SIGKILL and, later,
// another is stopped with SIGTERM. Reported: requests answered, errors clients saw (at most
// the requests in flight when the gateway died), and that haproxy's /readyz check took the
// dead one out (its stats socket says DOWN, its log says why).
//
// Without haproxy the test fails (npm test installs it), unless GEOGATE_SKIP_E2E=1.

import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../helpers/wait.js'
import t, { type Test } from 'tap'
import { Agent, request } from 'undici'
import { stopChild } from '../../src/stop-child.js'
import { startGeogate, type GeogateProcess } from '../helpers/processes.js'
import { replicaEnv, startSystem } from '../helpers/system.js'
import { requireTools } from '../helpers/tools.js'

const CONFIG = fileURLToPath(new URL('../../deploy/haproxy/haproxy.cfg', import.meta.url))

/** One command on haproxy's admin socket, its whole answer. */
async function adminCommand (socket: string, command: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    let answer = ''
    const connection = net.connect(socket, () => connection.end(`${command}\n`))
    connection.setEncoding('utf8')
    connection.on('data', (chunk: string) => { answer += chunk })
    connection.on('end', () => resolve(answer))
    connection.on('error', reject)
  })
}

/** Each server's status (UP, DOWN, …) and last check, from `show stat`. */
async function serverStates (socket: string): Promise<Map<string, { status: string, check: string }>> {
  const csv = (await adminCommand(socket, 'show stat')).split('\n')
  const header = (csv[0] ?? '').replace(/^# /, '').split(',')
  const column = (name: string): number => header.indexOf(name)
  const states = new Map<string, { status: string, check: string }>()
  for (const line of csv.slice(1)) {
    const fields = line.split(',')
    if (fields[column('pxname')] !== 'gateways' || ['FRONTEND', 'BACKEND', undefined].includes(fields[column('svname')])) continue
    states.set(fields[column('svname')] as string, { status: fields[column('status')] ?? '', check: fields[column('check_status')] ?? '' })
  }
  return states
}

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

interface Outcome { start: number, end: number, ok: boolean, status: number | string }

async function run (t: Test, binary: string): Promise<void> {
  const system = await startSystem(t)
  // haproxy connects from loopback and appends the client's address to X-Forwarded-For.
  const env = replicaEnv(system, { TRUSTED_PROXIES: '127.0.0.0/8' })
  // Each start registers its own teardown; one that fails must not leave the others running.
  const started = await Promise.allSettled([1, 2, 3].map(async (n) => await startGeogate(t, 'gateway', { ...env, GATEWAY_ID: `gw-${n}` }, { timeoutMs: 90_000 })))
  const gateways = started.flatMap((result) => result.status === 'fulfilled' ? [result.value] : [])
  if (gateways.length < 3) {
    t.fail(`a gateway did not start: ${started.map((r) => r.status === 'rejected' ? String(r.reason) : 'ok').join('; ')}`)
    return
  }

  const dir = mkdtempSync(path.join(tmpdir(), 'geogate-haproxy-'))
  const statsSocket = path.join(dir, 'admin.sock')
  const port = await freePort()
  const hostPort = (url: string): string => new URL(url).host
  const haproxy: ChildProcess = spawn(binary, ['-db', '-f', CONFIG], {
    env: {
      ...process.env,
      GEOGATE_BIND: `127.0.0.1:${port}`,
      GEOGATE_GW1: hostPort(gateways[0]?.url ?? ''),
      GEOGATE_GW2: hostPort(gateways[1]?.url ?? ''),
      GEOGATE_GW3: hostPort(gateways[2]?.url ?? ''),
      HAPROXY_STATS_SOCKET: statsSocket
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let log = ''
  haproxy.stdout?.on('data', (chunk: Buffer) => { log += chunk.toString() })
  haproxy.stderr?.on('data', (chunk: Buffer) => { log += chunk.toString() })
  t.teardown(() => stopChild(haproxy))

  // Every server UP before the load starts.
  const until = Date.now() + 20_000
  let states = new Map<string, { status: string, check: string }>()
  while (Date.now() < until) {
    states = await serverStates(statsSocket).catch(() => new Map())
    if (states.size === 3 && [...states.values()].every((s) => s.status === 'UP')) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  if (!t.same([...states.values()].map((s) => s.status), ['UP', 'UP', 'UP'], 'haproxy sees three gateways up')) {
    t.comment(log)
    return
  }

  const base = `http://127.0.0.1:${port}`
  const streamPath = '/flv?server=UIN-DEMO-1&camera=cam-1&access_token=demo-viewer-token'
  // Each gateway's caches warm before the load, so that a slow first lookup on a busy machine
  // is not counted as an error the kill caused.
  for (const gateway of gateways) {
    for (let i = 0; i < 50; i++) {
      const answer = await request(`${gateway.url}${streamPath}`, { headers: { 'x-forwarded-for': '77.88.8.8' } })
      await answer.body.dump()
      if (answer.statusCode === 302) break
      await sleep(200)
    }
  }
  const agent = new Agent({ connections: 32, keepAliveTimeout: 10_000 })
  t.teardown(() => agent.close())
  const outcomes: Outcome[] = []
  const load = { stopping: false }
  const inFlight = new Set<Outcome>()
  const CONCURRENCY = 16
  const client = async (): Promise<void> => {
    while (!load.stopping) {
      const outcome: Outcome = { start: performance.now(), end: 0, ok: false, status: 0 }
      inFlight.add(outcome)
      try {
        const answer = await request(`${base}${streamPath}`, {
          dispatcher: agent,
          headers: { 'x-forwarded-for': '77.88.8.8' },
          headersTimeout: 10_000
        })
        await answer.body.dump()
        outcome.status = answer.statusCode
        outcome.ok = answer.statusCode === 302
      } catch (err) {
        outcome.status = (err as { code?: string }).code ?? 'error'
        // No answer at all: not a tight loop against a balancer that is gone.
        await sleep(10)
      }
      outcome.end = performance.now()
      inFlight.delete(outcome)
      outcomes.push(outcome)
    }
  }
  const errorsBetween = (from: number, to: number): Outcome[] => outcomes.filter((o) => !o.ok && o.end >= from && o.start < to)

  const clients = Promise.all(Array.from({ length: CONCURRENCY }, client))
  try {
    await underLoad()
  } finally {
    load.stopping = true
    await clients
  }
  const answered = outcomes.filter((o) => o.ok).length
  const failed = outcomes.length - answered
  t.comment(`through haproxy: ${outcomes.length} requests, ${answered} answered 302, ${failed} errors`)
  const final = await serverStates(statsSocket)
  t.comment(`haproxy at the end: ${[...final].map(([name, s]) => `${name} ${s.status} (${s.check})`).join(', ')}`)
  t.ok(answered > 100, 'the load was answered throughout')
  t.equal(final.get('gw3')?.status, 'UP', 'the last gateway kept serving')

  async function underLoad (): Promise<void> {
    await sleep(2000)

    await t.test('a gateway killed with SIGKILL costs at most the requests in flight, and the /readyz check takes it out', async (t) => {
      const killed = gateways[0] as GeogateProcess
      const killedAt = performance.now()
      const inFlightAtKill = inFlight.size
      killed.child.kill('SIGKILL')
      let downAt: number | undefined
      let down: { status: string, check: string } | undefined
      while (performance.now() - killedAt < 10_000) {
        down = (await serverStates(statsSocket)).get('gw1')
        if (down?.status.startsWith('DOWN') === true) {
          downAt = performance.now()
          break
        }
        await sleep(50)
      }
      await sleep(1000)
      const errors = errorsBetween(killedAt - 1, performance.now())
      t.comment(`SIGKILL: ${inFlightAtKill} requests in flight through haproxy; clients saw ${errors.length} errors ${JSON.stringify(errors.map((e) => e.status))}; gw1 ${down?.status ?? '?'} (check ${down?.check ?? '?'}) after ${downAt === undefined ? '?' : Math.round(downAt - killedAt)} ms`)
      if (!t.ok(downAt !== undefined, 'haproxy marks the killed gateway DOWN')) t.comment(log)
      t.match(log, /Server gateways\/gw1 is DOWN/, 'haproxy\'s log says its health check took gw1 out')
      t.ok(errors.length <= inFlightAtKill, `errors (${errors.length}) are at most the requests in flight at the kill (${inFlightAtKill})`)
      t.same(errors.filter((e) => e.start >= killedAt), [], 'no request sent after the kill failed')
    })

    await t.test('a gateway stopped with SIGTERM loses no request', async (t) => {
      const stopped = gateways[1] as GeogateProcess
      const stoppedAt = performance.now()
      const exited = stopped.stop('SIGTERM')
      const code = await exited
      await sleep(1500)
      const errors = errorsBetween(stoppedAt - 1, performance.now())
      t.comment(`SIGTERM: gw2 exited with ${String(code)} after ${Math.round(performance.now() - stoppedAt - 1500)} ms; clients saw ${errors.length} errors ${JSON.stringify(errors.map((e) => e.status))}`)
      t.equal(code, 0, 'the gateway exits 0')
      t.equal(errors.length, 0, 'no client saw an error')
    })
  }
}

const haproxyBinary = requireTools(t, ['haproxy'])?.haproxy
if (haproxyBinary !== undefined) {
  await t.test('three gateways behind haproxy, one killed and one stopped under load', async (t) => { await run(t, haproxyBinary) })
}
