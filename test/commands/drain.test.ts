// A real `geogate gateway` drained by SIGTERM under keep-alive load: /readyz turns 503 at
// once, every request sent before the signal is answered, requests keep being served (with
// Connection: close) through DRAIN_GRACE_MS, then the port closes and the process exits 0.

import t from 'tap'
import { Pool } from 'undici'
import { seedDemoData } from '../../src/demo/seed.js'
import { startGeogate } from '../helpers/processes.js'
import { portOpen } from '../helpers/port-open.js'
import { startTestStore } from '../helpers/store.js'
import { TEST_SIGNING_KEYS } from '../helpers/system.js'

const GRACE_MS = 1500
const store = await startTestStore(t)
await seedDemoData(store.collections)

t.test('SIGTERM drains the gateway', async (t) => {
  const gateway = await startGeogate(t, 'gateway', {
    GATEWAY_PORT: '0', MONGODB_URL: store.url, MONGODB_DB: store.database, SIGNING_KEYS: TEST_SIGNING_KEYS, DRAIN_GRACE_MS: String(GRACE_MS)
  })
  const origin = new URL(gateway.url).origin
  const ready = new Pool(origin, { connections: 1 })
  const load = new Pool(origin, { connections: 8, keepAliveTimeout: 60_000 })
  t.teardown(async () => { await Promise.allSettled([ready.destroy(), load.destroy()]) })

  const readyz = async (): Promise<number> => {
    const answer = await ready.request({ path: '/readyz', method: 'GET' })
    await answer.body.dump()
    return answer.statusCode
  }
  // The first snapshot may still be loading.
  for (let i = 0; i < 100 && await readyz() !== 200; i++) await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(await readyz(), 200, 'ready before the signal')

  type Phase = 'before' | 'draining'
  let phase: Phase = 'before'
  const loadState = { running: true }
  const outcomes: Record<Phase, { ok: number, closeHeader: number, errors: string[] }> = {
    before: { ok: 0, closeHeader: 0, errors: [] },
    draining: { ok: 0, closeHeader: 0, errors: [] }
  }
  let refusedAfter = 0
  let exited = false
  const worker = async (): Promise<void> => {
    while (loadState.running) {
      const sentIn = phase
      try {
        const answer = await load.request({ path: '/healthz', method: 'GET', headersTimeout: 10_000, bodyTimeout: 10_000 })
        await answer.body.dump()
        if (answer.statusCode === 200) outcomes[sentIn].ok++
        else outcomes[sentIn].errors.push(`status ${answer.statusCode}`)
        if (answer.headers.connection === 'close') outcomes[sentIn].closeHeader++
      } catch (err) {
        const code = (err as { code?: string }).code ?? (err as Error).message
        // Once the port is closed, a new connection is refused: that is the drain's end.
        if (code === 'ECONNREFUSED' || exited) {
          refusedAfter++
          await new Promise((resolve) => setTimeout(resolve, 10))
        } else outcomes[sentIn].errors.push(code)
      }
    }
  }
  const workers = Array.from({ length: 16 }, worker)
  await new Promise((resolve) => setTimeout(resolve, 500))

  const exit = new Promise<number | null>((resolve) => gateway.child.once('exit', (code) => { exited = true; resolve(code) }))
  gateway.child.kill('SIGTERM')
  phase = 'draining'
  const signalledAt = performance.now()
  let notReady = await readyz()
  while (notReady === 200) notReady = await readyz()
  const readyTurnedMs = performance.now() - signalledAt
  t.equal(notReady, 503, '/readyz answers 503 once the signal is received')

  const code = await exit
  const exitMs = performance.now() - signalledAt
  loadState.running = false
  await Promise.all(workers)
  t.equal(code, 0, 'the process exits 0')
  t.notOk(await portOpen(Number(new URL(origin).port)), 'the port is closed')

  t.comment(`readyz 503 ${readyTurnedMs.toFixed(0)} ms after SIGTERM; exit ${exitMs.toFixed(0)} ms after; ` +
    `before: ${outcomes.before.ok} ok, ${outcomes.before.errors.length} errors; draining: ${outcomes.draining.ok} ok ` +
    `(${outcomes.draining.closeHeader} with Connection: close), ${outcomes.draining.errors.length} errors; refused after the grace: ${refusedAfter}`)
  t.ok(outcomes.before.ok > 0, 'load ran before the signal')
  t.same(outcomes.before.errors, [], 'no request sent before the signal failed or was reset')
  // As the port closes, connections the kernel completed but the process never accepted are
  // reset (new connections at that instant, not requests the gateway took): no other failure.
  t.same(outcomes.draining.errors.filter((e) => e !== 'ECONNRESET'), [], 'no request sent while draining got an error answer or timed out')
  t.ok(outcomes.draining.ok > 0, 'requests were still served while draining')
  t.ok(outcomes.draining.closeHeader > 0, 'answers while draining close their connection')
})
