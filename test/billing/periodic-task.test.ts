// The shape billing's background tasks share: runs that never overlap, a failure retried at the
// next tick, and a close that waits for the run under way.

import t from 'tap'
import { startPeriodicTask } from '../../src/billing/periodic-task.js'

async function until (what: () => boolean): Promise<void> {
  for (let waited = 0; !what(); waited += 5) {
    if (waited > 5000) throw new Error('condition not met within 5 s')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

t.test('a run on demand joins the run under way', async (t) => {
  let runs = 0
  let release: () => void = () => {}
  const task = startPeriodicTask({ everyMs: 60_000, run: async () => { runs++; await new Promise<void>((resolve) => { release = resolve }); return runs } })
  const first = task.run()
  const second = task.run()
  release()
  t.equal(await first, 1)
  t.equal(await second, 1, 'the same run')
  t.equal(await (async () => { const next = task.run(); release(); return await next })(), 2, 'a later call starts a new run')
  await task.close()
})

t.test('a failed run is reported and the next tick tries again', async (t) => {
  const errors: unknown[] = []
  let runs = 0
  const task = startPeriodicTask({
    everyMs: 10,
    run: async () => { runs++; if (runs === 1) throw new Error('store down'); return runs },
    onError: (err) => errors.push(err)
  })
  await until(() => runs >= 2)
  await task.close()
  t.equal(errors.length, 1)
  t.match((errors[0] as Error).message, 'store down')
})

t.test('close stops the timer and waits for the run under way', async (t) => {
  let runs = 0
  let finished = false
  const task = startPeriodicTask({ everyMs: 10, run: async () => { runs++; await new Promise((resolve) => setTimeout(resolve, 50)); finished = true } })
  await until(() => runs === 1)
  await task.close()
  t.ok(finished, 'the run under way finished before close answered')
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(runs, 1, 'no run after close')
})

t.test('everyMs must be a positive integer', async (t) => {
  t.throws(() => startPeriodicTask({ everyMs: 0, run: async () => {} }), TypeError)
})
