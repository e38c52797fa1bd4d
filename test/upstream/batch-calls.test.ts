import t from 'tap'
import { createBatchCalls, type BatchCallsOptions } from '../../src/upstream/batch-calls.js'

/** A batcher over an upstream that doubles numbers, recording every call it gets. */
function doubler (overrides: Partial<BatchCallsOptions<number, number>> = {}) {
  const calls: Array<number | number[]> = []
  const call = createBatchCalls<number, number>({
    maxBatch: 4,
    one: async (n) => {
      calls.push(n)
      return n * 2
    },
    many: async (ns) => {
      calls.push(ns)
      return ns.map((n) => n * 2)
    },
    ...overrides
  })
  return { call, calls }
}

t.test('a key alone goes by the single-key call', async (t) => {
  const { call, calls } = doubler()
  t.equal(await call(21), 42)
  t.same(calls, [21])
})

t.test('keys asked within one turn go in one call, each gets its own answer', async (t) => {
  const { call, calls } = doubler()
  t.same(await Promise.all([call(1), call(2), call(3)]), [2, 4, 6])
  t.same(calls, [[1, 2, 3]])
})

t.test('keys asked in later turns go in later calls', async (t) => {
  const { call, calls } = doubler()
  const first = call(1)
  await new Promise((resolve) => setImmediate(resolve))
  const second = [call(2), call(3)]
  t.same(await Promise.all([first, ...second]), [2, 4, 6])
  t.same(calls, [1, [2, 3]])
})

t.test('at most maxBatch keys a call; a last one left over goes alone', async (t) => {
  const { call, calls } = doubler()
  const answers = await Promise.all(Array.from({ length: 9 }, (_, i) => call(i)))
  t.same(answers, [0, 2, 4, 6, 8, 10, 12, 14, 16])
  t.same(calls, [[0, 1, 2, 3], [4, 5, 6, 7], 8])
})

t.test('maxWeight splits a batch; a key heavier than it goes alone', async (t) => {
  const { call, calls } = doubler({ maxBatch: 100, maxWeight: 10, weightOf: (n) => n })
  await Promise.all([3, 3, 3, 3, 50, 1, 2].map((n) => call(n)))
  t.same(calls, [[3, 3, 3], 3, 50, [1, 2]])
})

t.test('a failed batch fails each of its keys with its error, and only those', async (t) => {
  const boom = new Error('upstream down')
  const { call } = doubler({ many: async (ns) => { if (ns.includes(1)) throw boom; return ns.map((n) => n * 2) } })
  const settled = await Promise.allSettled([1, 2, 3, 4, 5, 6].map((n) => call(n)))
  t.same(settled.slice(0, 4).map((s) => s.status === 'rejected' && s.reason), [boom, boom, boom, boom])
  t.same(settled.slice(4).map((s) => s.status === 'fulfilled' && s.value), [10, 12])
})

t.test('an answer with the wrong number of values fails the batch, not a neighbour\'s key', async (t) => {
  const { call } = doubler({ many: async (ns) => ns.slice(1) })
  const settled = await Promise.allSettled([call(1), call(2)])
  t.ok(settled.every((s) => s.status === 'rejected' && /a batch of 2 got 1 answers/.test(String(s.reason))))
})

t.test('maxBatch must be a positive integer', async (t) => {
  t.throws(() => doubler({ maxBatch: 0 }), /maxBatch/)
  t.throws(() => doubler({ maxBatch: 1.5 }), /maxBatch/)
})
