import t from 'tap'
import { readInSlices } from '../../src/store/read-in-slices.js'

async function * documents (count: number): AsyncGenerator<number> {
  // Like a cursor over a fetched batch: every document without a turn of the event loop.
  for (let i = 0; i < count; i++) yield i
}

t.test('reads every document, in order, and counts them', async (t) => {
  const seen: number[] = []
  t.equal(await readInSlices(documents(7), (doc) => seen.push(doc), { slice: 3 }), 7)
  t.same(seen, [0, 1, 2, 3, 4, 5, 6])
})

t.test('the event loop gets a turn after every slice, and onSlice runs just before it', async (t) => {
  const events: string[] = []
  let handled = 0
  const ticker = setInterval(() => events.push(`turn after ${handled}`), 0)
  const immediates = (): void => { setImmediate(() => { events.push(`immediate after ${handled}`) }) }
  immediates()
  await readInSlices(documents(10), () => { handled++ }, {
    slice: 4,
    onSlice: () => { events.push(`slice at ${handled}`); immediates() }
  })
  clearInterval(ticker)
  const slices = events.filter((e) => e.startsWith('slice'))
  t.same(slices, ['slice at 4', 'slice at 8'])
  t.ok(events.includes('immediate after 4'), 'a callback queued before the first yield ran before document 5')
  t.ok(events.includes('immediate after 8'))
  t.notOk(events.some((e) => /after (1|2|3|5|6|7|9)$/.test(e)), 'no turn inside a slice')
})

t.test('a failing cursor rejects, and a bad slice size is refused', async (t) => {
  async function * broken (): AsyncGenerator<number> {
    yield 1
    throw new Error('connection lost')
  }
  await t.rejects(readInSlices(broken(), () => {}), /connection lost/)
  await t.rejects(readInSlices(documents(1), () => {}, { slice: 0 }), TypeError)
})
