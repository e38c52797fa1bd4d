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

t.test('endOf: a value answers neither fresh nor stale from its end, and one already past it is not cached', async (t) => {
  let now = 1000
  let down = false
  let calls = 0
  const lookup = createCachedLookup<string, { end: number }>(async () => {
    calls++
    if (down) throw new Error('down')
    return { end: 1050 }
  }, { max: 10, ttlFor: () => 100, endOf: (value) => value.end, now: () => now, staleIfError: { maxStaleMs: 1000, when: () => true } })
  const value = await lookup.get('k')
  now = 1037
  t.same(lookup.peek('k'), { value })
  t.equal(calls, 1)
  now = 1038
  t.same(lookup.peek('k'), { value }, 'fresh, and reloaded ahead at 3/4 of the life left to it')
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(calls, 2)
  now = 1046
  t.match(lookup.peek('k'), { value: { end: 1050 } })
  t.equal(calls, 2)
  now = 1050
  t.equal(lookup.peek('k'), undefined, 'not at its end, though its TTL runs to 1100')
  down = true
  await t.rejects(lookup.get('k'), /down/, 'nor stale')
  down = false
  now = 2000
  lookup.set('k', { end: 2000 })
  t.equal(lookup.peek('k'), undefined, 'a value already at its end is not cached')
})

t.test('staleIfError.retryMs 0 with mayReload: a stale value retries at every use the breaker allows', async (t) => {
  let now = 1000
  let down = false
  let refusing = false
  let calls = 0
  const lookup = createCachedLookup<string, number>(async () => {
    calls++
    if (down) throw new Error('down')
    return calls
  }, { max: 10, ttlFor: () => 100, refreshAhead: 1, now: () => now, mayReload: () => !refusing, staleIfError: { maxStaleMs: 1000, when: () => true, retryMs: 0 } })
  t.equal(await lookup.get('k'), 1)
  down = true
  now += 150
  t.equal(await lookup.get('k'), 1, 'stale after a failed load')
  const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
  t.same(lookup.peek('k'), { value: 1 })
  await settle()
  t.same(lookup.peek('k'), { value: 1 })
  await settle()
  t.equal(calls, 4, 'each use tried again')
  refusing = true
  lookup.peek('k')
  lookup.peek('k')
  await settle()
  t.equal(calls, 4, 'none while the breaker refuses')
  refusing = false
  down = false
  lookup.peek('k')
  await settle()
  t.equal(calls, 5)
  t.same(lookup.peek('k'), { value: 5 }, 'the first success answers at once')
  t.equal(lookup.staleCount, 0)
})

t.test('mayReload also holds back reloading ahead', async (t) => {
  let now = 1000
  let calls = 0
  let refusing = true
  const lookup = createCachedLookup(async () => ++calls, { max: 10, ttlFor: () => 100, now: () => now, mayReload: () => !refusing })
  await lookup.get('k')
  now = 1080
  lookup.peek('k')
  t.equal(calls, 1)
  refusing = false
  lookup.peek('k')
  t.equal(calls, 2)
})

t.test('failureMemory keeps remembered failures apart from the values; endsValue drops a value unremembered', async (t) => {
  let now = 1000
  let outcome: 'ok' | 'denied' | 'down' = 'ok'
  const remembered: Array<[string, number]> = []
  let kept: { error: unknown } | undefined
  const memory = {
    peek: (key: string) => (key === 'a' ? kept : undefined),
    remember: (key: string, error: unknown, ttlMs: number) => { remembered.push([key, ttlMs]); kept = { error } },
    count: 0,
    bytes: 0,
    close: () => {}
  }
  const denied = new Error('denied')
  let denyTtl = 50
  const lookup = createCachedLookup<string, string>(async () => {
    if (outcome === 'denied') throw denied
    if (outcome === 'down') throw new Error('down')
    return 'granted'
  }, { max: 10, ttlFor: () => 100, errorTtlFor: (err) => (err === denied ? denyTtl : 0), endsValue: (err) => err === denied, failureMemory: memory, now: () => now })
  t.equal(await lookup.get('a'), 'granted')
  outcome = 'denied'
  now = 1080
  t.same(lookup.peek('a'), { value: 'granted' })
  await new Promise((resolve) => setImmediate(resolve))
  t.same(remembered, [['a', 50]], 'the denial went to the memory…')
  t.same(lookup.peek('a'), { error: denied }, '…which answers for the key now that its value is gone')
  t.equal(lookup.size, 0, 'nothing of it among the values')

  denyTtl = 0
  outcome = 'ok'
  t.equal(await lookup.get('b'), 'granted')
  outcome = 'down'
  now = 1170
  lookup.peek('b')
  await new Promise((resolve) => setImmediate(resolve))
  t.same(lookup.peek('b'), { value: 'granted' }, 'a failure of another kind leaves the value')
  outcome = 'denied'
  await t.rejects(lookup.get('c'), denied)
  t.same(remembered, [['a', 50]], 'with its TTL 0 a denial is not remembered…')
  now = 1175
  lookup.peek('b')
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(lookup.peek('b'), undefined, '…but it still ends the value')
})
