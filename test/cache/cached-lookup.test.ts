import t from 'tap'
import { createCachedLookup } from '../../src/cache/cached-lookup.js'

t.test('coalesces concurrent misses for one key into one load', async (t) => {
  let calls = 0
  const lookup = createCachedLookup(async (key: string) => { calls++; await new Promise((resolve) => setImmediate(resolve)); return key.toUpperCase() }, { max: 10, ttlFor: () => 1000 })
  const answers = await Promise.all(Array.from({ length: 100 }, () => lookup.get('a')))
  t.equal(calls, 1)
  t.ok(answers.every((a) => a === 'A'))
  t.same(lookup.peek('a'), { value: 'A' })
})

t.test('values expire by the injected clock', async (t) => {
  let now = 1000
  let calls = 0
  const lookup = createCachedLookup(async () => ++calls, { max: 10, ttlFor: () => 100, now: () => now })
  t.equal(await lookup.get('k'), 1)
  now += 99
  t.equal(await lookup.get('k'), 1)
  now += 2
  t.equal(await lookup.get('k'), 2)
})

t.test('failures are remembered only when errorTtlFor says so', async (t) => {
  let calls = 0
  const fail = createCachedLookup<string, number>(async () => { calls++; throw new Error('no') }, { max: 10, ttlFor: () => 100, errorTtlFor: () => 50 })
  await t.rejects(fail.get('k'), /no/)
  await t.rejects(fail.get('k'), /no/)
  t.equal(calls, 1)
  let plain = 0
  const forget = createCachedLookup<string, number>(async () => { plain++; throw new Error('no') }, { max: 10, ttlFor: () => 100 })
  await t.rejects(forget.get('k'))
  await t.rejects(forget.get('k'))
  t.equal(plain, 2)
})

t.test('rejects a bad max', async (t) => {
  t.throws(() => createCachedLookup(async () => 1, { max: 0, ttlFor: () => 1 }), TypeError)
})
