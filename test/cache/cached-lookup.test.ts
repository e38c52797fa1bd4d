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

t.test('set caches a value found without loading, by the same TTL rule', async (t) => {
  let now = 1000
  let calls = 0
  const lookup = createCachedLookup(async () => ++calls, { max: 10, ttlFor: (value) => (value < 0 ? 0 : 100), now: () => now })
  lookup.set('k', 7)
  t.same(lookup.peek('k'), { value: 7 })
  t.equal(await lookup.get('k'), 7, 'no load')
  now += 101
  t.equal(await lookup.get('k'), 1, 'expired by its TTL, then loaded')
  lookup.set('k', -1)
  t.equal(lookup.peek('k'), undefined, 'a value with no TTL is not cached, and drops the old one')
  t.equal(calls, 1)
})

t.test('rejects a bad max', async (t) => {
  t.throws(() => createCachedLookup(async () => 1, { max: 0, ttlFor: () => 1 }), TypeError)
})

t.test('a value used late in its life is reloaded in the background; hits never wait', async (t) => {
  let now = 1000
  let calls = 0
  let release: (() => void) | undefined
  const lookup = createCachedLookup(async () => {
    calls++
    if (calls > 1) await new Promise<void>((resolve) => { release = resolve })
    return calls
  }, { max: 10, ttlFor: () => 100, now: () => now })
  t.equal(await lookup.get('k'), 1)
  now = 1074
  t.same(lookup.peek('k'), { value: 1 }, 'early in its life: no reload')
  t.equal(calls, 1)
  now = 1080
  t.same(lookup.peek('k'), { value: 1 }, 'late in its life: the cached value answers…')
  t.equal(calls, 2, '…while one reload starts')
  t.same(lookup.peek('k'), { value: 1 })
  t.equal(await lookup.get('k'), 1, 'get does not wait for the reload either')
  t.equal(calls, 2, 'one reload at a time')
  release?.()
  await new Promise((resolve) => setImmediate(resolve))
  now = 1150
  t.same(lookup.peek('k'), { value: 2 }, 'the reloaded value, fresh past the old expiry')
})

t.test('a reload that is denied replaces the value; any other failure leaves it to expire', async (t) => {
  let now = 1000
  let outcome: 'ok' | 'denied' | 'down' = 'ok'
  const lookup = createCachedLookup<string, string>(async () => {
    if (outcome === 'ok') return 'granted'
    throw new Error(outcome)
  }, { max: 10, ttlFor: () => 100, errorTtlFor: (err) => (err as Error).message === 'denied' ? 50 : 0, now: () => now })
  t.equal(await lookup.get('a'), 'granted')
  t.equal(await lookup.get('b'), 'granted')
  outcome = 'down'
  now = 1090
  t.same(lookup.peek('a'), { value: 'granted' })
  await new Promise((resolve) => setImmediate(resolve))
  t.same(lookup.peek('a'), { value: 'granted' }, 'an upstream that is down does not evict a fresh value')
  outcome = 'denied'
  t.same(lookup.peek('b'), { value: 'granted' })
  await new Promise((resolve) => setImmediate(resolve))
  t.match(lookup.peek('b'), { error: { message: 'denied' } }, 'a denial takes effect at once')
  now = 1101
  t.equal(lookup.peek('a'), undefined, 'the value still expires on time')
})

t.test('refreshAhead 1 turns reloading ahead off; a bad one is refused', async (t) => {
  let now = 1000
  let calls = 0
  const lookup = createCachedLookup(async () => ++calls, { max: 10, ttlFor: () => 100, refreshAhead: 1, now: () => now })
  await lookup.get('k')
  now = 1099
  lookup.peek('k')
  t.equal(calls, 1)
  t.throws(() => createCachedLookup(async () => 1, { max: 1, ttlFor: () => 1, refreshAhead: 1.5 }), TypeError)
})

t.test('staleIfError: a value past its TTL answers while loads fail as the rule accepts, and only then', async (t) => {
  let now = 1000
  let down = false
  let calls = 0
  const unreachable = new Error('store unreachable')
  const lookup = createCachedLookup<string, number>(async () => {
    calls++
    if (down) throw unreachable
    return calls
  }, { max: 10, ttlFor: () => 100, refreshAhead: 1, now: () => now, staleIfError: { maxStaleMs: 1000, when: (error) => error === unreachable } })
  t.equal(await lookup.get('k'), 1)
  down = true
  now += 150
  t.equal(lookup.peek('k'), undefined, 'past its TTL, a peek misses until a load has failed')
  t.equal(await lookup.get('k'), 1, 'the failed load answers with the last value')
  t.equal(lookup.staleCount, 1)
  t.same(lookup.peek('k'), { value: 1 }, 'and peeks answer with it at once')
  const before = calls
  lookup.peek('k')
  lookup.peek('k')
  t.equal(calls, before, 'without a reload on every peek')
  now += 150
  lookup.peek('k')
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(calls, before + 1, 'a reload is tried once per TTL')
  now += 1000
  t.equal(lookup.peek('k'), undefined, 'past maxStaleMs it is gone')
  await t.rejects(lookup.get('k'), unreachable)
  down = false
  t.equal(await lookup.get('k'), calls, 'a load that succeeds is used again')
  t.equal(lookup.staleCount, 0)
})

t.test('staleIfError answers only for the failures its rule names', async (t) => {
  let now = 1000
  let fail: Error | undefined
  const lookup = createCachedLookup<string, number>(async () => { if (fail !== undefined) throw fail; return 7 }, {
    max: 10, ttlFor: () => 100, now: () => now, staleIfError: { maxStaleMs: 1000, when: (error) => (error as Error).message === 'down' }
  })
  t.equal(await lookup.get('k'), 7)
  now += 150
  fail = new Error('denied')
  await t.rejects(lookup.get('k'), /denied/, 'another failure is the answer')
  fail = new Error('down')
  t.equal(await lookup.get('k'), 7)
  t.throws(() => createCachedLookup(async () => 1, { max: 1, ttlFor: () => 1, staleIfError: { maxStaleMs: -1, when: () => true } }), TypeError)
})
