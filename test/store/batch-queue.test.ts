// One batch at a time: items that come while a batch runs wait and go together in the next, up
// to maxBatch; each item gets its own answer, or its batch's failure. A batch that releases lets
// the next begin before it ends, two under way at most.

import t from 'tap'
import { createBatchQueue } from '../../src/store/batch-queue.js'

/** Batches the test finishes by hand: what each was given, in the order they began. */
function manualRuns (): { run: (items: number[], release: () => void) => Promise<string[]>, batches: number[][], releases: Array<() => void>, finish: (err?: Error) => void } {
  const pending: Array<{ resolve: (answers: string[]) => void, reject: (err: Error) => void, items: number[] }> = []
  const state = {
    batches: [] as number[][],
    releases: [] as Array<() => void>,
    run: async (items: number[], release: () => void) => await new Promise<string[]>((resolve, reject) => {
      state.batches.push(items)
      state.releases.push(release)
      pending.push({ resolve, reject, items })
    }),
    finish (err?: Error) {
      const next = pending.shift()
      if (next === undefined) throw new Error('no batch is running')
      if (err === undefined) next.resolve(next.items.map((item) => `answer ${item}`))
      else next.reject(err)
    }
  }
  return state
}

const turn = async (): Promise<void> => await new Promise((resolve) => setImmediate(resolve))

t.test('the items of one turn go together; those that come during a batch go in the next', async (t) => {
  const runs = manualRuns()
  const add = createBatchQueue({ maxBatch: 10, run: runs.run })
  const first = [add(1), add(2), add(3)]
  t.same(runs.batches, [], 'nothing runs before the turn ends')
  await turn()
  t.same(runs.batches, [[1, 2, 3]])
  const later = [add(4), add(5)]
  await turn()
  t.same(runs.batches, [[1, 2, 3]], 'no second batch beside the first')
  runs.finish()
  t.same(await Promise.all(first), ['answer 1', 'answer 2', 'answer 3'], 'each item its own answer')
  await turn()
  t.same(runs.batches, [[1, 2, 3], [4, 5]], 'what came meanwhile goes next, together')
  runs.finish()
  t.same(await Promise.all(later), ['answer 4', 'answer 5'])
})

t.test('at most maxBatch items a batch; the rest wait for the next', async (t) => {
  const runs = manualRuns()
  const add = createBatchQueue({ maxBatch: 2, run: runs.run })
  const answers = Promise.all([add(1), add(2), add(3), add(4), add(5)])
  await turn()
  runs.finish()
  await turn()
  runs.finish()
  await turn()
  runs.finish()
  t.same(runs.batches, [[1, 2], [3, 4], [5]])
  t.same(await answers, ['answer 1', 'answer 2', 'answer 3', 'answer 4', 'answer 5'])
})

t.test('a failed batch fails each of its items, and the next batch still runs', async (t) => {
  const runs = manualRuns()
  const add = createBatchQueue({ maxBatch: 10, run: runs.run })
  const failing = [add(1), add(2)]
  await turn()
  const next = add(3)
  runs.finish(new Error('store down'))
  for (const item of failing) await t.rejects(item, { message: 'store down' })
  await turn()
  runs.finish()
  t.equal(await next, 'answer 3')
})

t.test('a batch that releases lets the next begin; no third begins before the first ends', async (t) => {
  const runs = manualRuns()
  const add = createBatchQueue({ maxBatch: 10, run: runs.run })
  const first = add(1)
  await turn()
  const second = add(2)
  await turn()
  t.same(runs.batches, [[1]], 'the second waits while the first holds')
  runs.releases[0]?.()
  await turn()
  t.same(runs.batches, [[1], [2]], 'released: the second begins beside the first')
  const third = add(3)
  runs.releases[1]?.()
  await turn()
  t.same(runs.batches, [[1], [2]], 'two under way: the third waits')
  runs.finish()
  t.equal(await first, 'answer 1')
  await turn()
  t.same(runs.batches, [[1], [2], [3]], 'the first over: the third begins')
  runs.finish()
  runs.finish()
  t.same(await Promise.all([second, third]), ['answer 2', 'answer 3'])
})

t.test('a batch that answers the wrong number of items fails them all', async (t) => {
  const add = createBatchQueue<number, number>({ maxBatch: 10, run: async () => [1] })
  await t.rejects(Promise.all([add(1), add(2)]), { message: /a batch of 2 got 1 answers/ })
})

t.test('maxBatch must be a positive integer', async (t) => {
  for (const maxBatch of [0, -1, 1.5, Number.NaN]) {
    t.throws(() => createBatchQueue({ maxBatch, run: async (items: number[]) => items }), TypeError)
  }
})
