import t from 'tap'
import { readInSlices } from '../../src/store/read-in-slices.js'

async function * documents (count: number): AsyncGenerator<number> {
  // Like a cursor over a fetched batch: every document without a turn of the event loop.
  for (let i = 0; i < count; i++) yield i
}

t.test('reads every document, in order, and counts them', async (t) => {
  const seen: number[] = []
  t.equal(await readInSlices(documents(7), (doc) => seen.push(doc), 3), 7)
  t.same(seen, [0, 1, 2, 3, 4, 5, 6])
})

t.test('the event loop gets a turn after every slice, and none inside one', async (t) => {
  let handled = 0
  // A chain of immediates records how many documents each turn of the event loop saw handled.
  const turns: number[] = []
  let watching = true
  const watch = (): void => { turns.push(handled); if (watching) setImmediate(watch) }
  setImmediate(watch)
  await readInSlices(documents(10), () => { handled++ }, 4)
  watching = false
  t.same([...new Set(turns)], [4, 8], 'turns came after documents 4 and 8 only')
})

t.test('a failing cursor rejects, and a bad slice size is refused', async (t) => {
  async function * broken (): AsyncGenerator<number> {
    yield 1
    throw new Error('connection lost')
  }
  await t.rejects(readInSlices(broken(), () => {}), /connection lost/)
  await t.rejects(readInSlices(documents(1), () => {}, 0), TypeError)
})
