// The deadline of an upstream call: aborts a call that runs past it, and costs nothing more
// once cleared.

import t, { type Test } from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'
import { DeadlineError, startDeadline } from '../../src/upstream/deadline.js'

// The deadline's own timer does not hold the process open; these tests hold it while they wait.
function holdOpen (t: Test): void {
  const hold = setTimeout(() => {}, 10_000)
  t.teardown(() => clearTimeout(hold))
}

t.test('the signal aborts after ms, with a DeadlineError as its reason', async (t) => {
  holdOpen(t)
  const deadline = startDeadline(20)
  t.equal(deadline.signal.aborted, false)
  await new Promise((resolve) => deadline.signal.addEventListener('abort', resolve, { once: true }))
  t.ok(deadline.signal.reason instanceof DeadlineError)
  t.equal(deadline.signal.reason.name, 'TimeoutError')
  t.match(deadline.signal.reason.message, /no answer within 20 ms/)
})

t.test('a cleared deadline never aborts', async (t) => {
  holdOpen(t)
  const deadline = startDeadline(10)
  deadline.clear()
  await new Promise((resolve) => setTimeout(resolve, 40))
  t.equal(deadline.signal.aborted, false)
})

t.test('it ends a real call to a server that does not answer in time', async (t) => {
  const server = createServer(() => { /* never answers */ })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  const { port } = server.address() as AddressInfo
  const deadline = startDeadline(50)
  const started = Date.now()
  await t.rejects(request(`http://127.0.0.1:${port}/`, { signal: deadline.signal }), { name: 'TimeoutError', message: 'no answer within 50 ms' })
  deadline.clear()
  t.ok(Date.now() - started < 5000, 'rejected by the deadline, not by a default timeout of minutes')
})
