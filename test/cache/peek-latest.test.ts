// peekLatest: a check that must not wait on a load once it has an answer gets the last value
// kept past its TTL (while staleIfError keeps it), and the reload it starts brings a change.

import t from 'tap'
import { createCachedLookup } from '../../src/cache/cached-lookup.js'

t.test('past its TTL the last value answers at once while a reload brings the new one', async (t) => {
  let clock = 0
  let version = 1
  let loads = 0
  const lookup = createCachedLookup<string, number>(async () => { loads++; return version }, {
    max: 10, ttlFor: () => 1000, now: () => clock, staleIfError: { maxStaleMs: 60_000, when: () => true }
  })
  t.equal(lookup.peekLatest('k'), undefined, 'nothing kept: a miss')
  t.equal(await lookup.get('k'), 1)
  t.same(lookup.peekLatest('k'), { value: 1 })
  version = 2
  clock += 5000
  t.equal(lookup.peek('k'), undefined, 'peek misses past the TTL')
  t.same(lookup.peekLatest('k'), { value: 1 }, 'peekLatest answers with the last value')
  t.same(lookup.peekLatest('k'), { value: 1 }, 'and starts one reload only')
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(loads, 2)
  t.same(lookup.peekLatest('k'), { value: 2 }, 'the reload brought the change')
  clock += 120_000
  t.equal(lookup.peekLatest('k'), undefined, 'past what staleIfError keeps: a miss')
})

t.test('without staleIfError nothing is kept past the TTL', async (t) => {
  let clock = 0
  const lookup = createCachedLookup<string, number>(async () => 1, { max: 10, ttlFor: () => 1000, now: () => clock })
  await lookup.get('k')
  clock += 1001
  t.equal(lookup.peekLatest('k'), undefined)
})
