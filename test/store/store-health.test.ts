// The store's breaker and the guard every gateway query goes through, without a store: the
// operations are plain functions that answer, fail, or never answer.

import t from 'tap'
import { MongoNetworkError, MongoServerError } from 'mongodb'
import { createQueryGuard, isStoreUnreachable } from '../../src/store/guarded-collections.js'
import { createStoreHealth } from '../../src/store/store-health.js'

t.test('a few failures in a row mark the store down; any answer marks it up', async (t) => {
  let now = 5000
  const health = createStoreHealth({ failureThreshold: 3, now: () => now })
  health.failed()
  health.failed()
  t.equal(health.state(), 'up')
  health.succeeded()
  health.failed()
  health.failed()
  now += 10
  health.failed()
  t.equal(health.state(), 'down')
  t.equal(health.admit(), false)
  t.equal(health.downSince(), 5000, 'the outage began with the first failure of the run')
  health.succeeded()
  t.equal(health.state(), 'up')
  t.equal(health.downSince(), undefined)
  t.throws(() => createStoreHealth({ failureThreshold: 0 }), TypeError)
})

t.test('what counts as the store not answering', async (t) => {
  t.ok(isStoreUnreachable(new MongoNetworkError('reset')))
  t.ok(isStoreUnreachable(new MongoServerError({ code: 50, errmsg: 'operation exceeded time limit' })), 'maxTimeMS expired')
  t.notOk(isStoreUnreachable(new MongoServerError({ code: 11000, errmsg: 'duplicate key' })), 'a duplicate key is an answer')
  t.notOk(isStoreUnreachable(new TypeError('a bug')))
  // A write to the socket of a store just killed, as the driver let it through (a 500 before).
  const reset = Object.assign(new Error('write ECONNRESET'), { errno: -104, code: 'ECONNRESET', syscall: 'write' })
  t.ok(isStoreUnreachable(reset), 'a socket reset the driver did not wrap')
  t.notOk(isStoreUnreachable(Object.assign(new Error('no such file'), { code: 'ENOENT', syscall: 'open' })), 'a file error is not the store')
})

t.test('the guard: a deadline for each operation, and none tried while the store is down', async (t) => {
  const health = createStoreHealth({ failureThreshold: 2 })
  const guard = createQueryGuard({ health, timeoutMs: 20 })
  const never = async (): Promise<never> => await new Promise(() => {})
  t.equal(await guard.run(async () => 'answer'), 'answer')
  await t.rejects(guard.run(async () => { throw new MongoServerError({ code: 11000, errmsg: 'dup' }) }), { code: 11000 }, 'the store\'s own answer passes through')
  await t.rejects(guard.run(never), { code: 'GW_DEPENDENCY_DOWN' }, 'no answer within the deadline: 503')
  await t.rejects(guard.run(never), { code: 'GW_DEPENDENCY_DOWN' })
  t.equal(health.state(), 'down')
  let tried = false
  await t.rejects(guard.run(async () => { tried = true; return 1 }), { code: 'GW_DEPENDENCY_DOWN', retryAfter: 2 })
  t.notOk(tried, 'while down, a request\'s query is not even tried')
  const probe = createQueryGuard({ health, timeoutMs: 20, probe: true })
  t.equal(await probe.run(async () => 'back'), 'back', 'a probe is tried, and its answer closes the breaker')
  t.equal(health.state(), 'up')
  t.equal(await guard.run(async () => 'fresh'), 'fresh')
})
