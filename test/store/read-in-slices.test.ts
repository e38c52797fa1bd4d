import t from 'tap'
import { readInSlices } from '../../src/store/read-in-slices.js'

async function * documents (count: number): AsyncGenerator<number> {
  // Like a cursor over a fetched batch: every document without a turn of the event loop.
  for (let i = 0; i < count; i++) yield i
}

t.test('reads every document, in order, and counts them', async (t) => {
  const seen: number[] = []
  t.equal(await readInSlices(documents(7), (doc) => seen.push(doc)), 7)
  t.same(seen, [0, 1, 2, 3, 4, 5, 6])
})

t.test('the event loop gets a turn once a slice has used its time, and none inside one', async (t) => {
  // Each document takes 0.3 ms on this clock: a slice of 1 ms ends after its fourth.
  let clock = 0
  let handled = 0
  // A chain of immediates records how many documents each turn of the event loop saw handled.
  const turns: number[] = []
  let watching = true
  const watch = (): void => { turns.push(handled); if (watching) setImmediate(watch) }
  setImmediate(watch)
  await readInSlices(documents(10), () => { handled++; clock += 0.3 }, { sliceMs: 1, now: () => clock })
  watching = false
  t.same([...new Set(turns)], [4, 8], 'turns came after documents 4 and 8 only')
})

t.test('documents that cost nothing are read without a turn', async (t) => {
  let turns = 0
  let watching = true
  const watch = (): void => { turns++; if (watching) setImmediate(watch) }
  setImmediate(watch)
  await readInSlices(documents(1000), () => {}, { now: () => 0 })
  watching = false
  t.ok(turns <= 1, `${turns} turns`)
})

t.test('a failing cursor rejects, and a bad slice is refused', async (t) => {
  async function * broken (): AsyncGenerator<number> {
    yield 1
    throw new Error('connection lost')
  }
  await t.rejects(readInSlices(broken(), () => {}), /connection lost/)
  for (const sliceMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    await t.rejects(readInSlices(documents(1), () => {}, { sliceMs }), TypeError, String(sliceMs))
  }
})
