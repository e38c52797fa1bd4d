import t from 'tap'
import { createSecondMemo } from '../../src/cache/second-memo.js'

t.test('remembers for the rest of the second, then forgets everything at once', async (t) => {
  let clock = 10_400
  const memo = createSecondMemo<string>(() => clock, 10)
  memo.set('a', 'A')
  clock = 10_999
  t.equal(memo.get('a'), 'A')
  clock = 11_000
  t.equal(memo.get('a'), undefined, 'a new second starts empty')
})

t.test('a different scope, or a new version of it, starts afresh', async (t) => {
  const memo = createSecondMemo<number>(() => 5000, 10)
  const first = {}
  const second = {}
  memo.set('k', 1, first, 0)
  t.equal(memo.get('k', first, 0), 1)
  t.equal(memo.get('k', first, 1), undefined, 'another version of the same scope')
  memo.set('k', 2, first, 1)
  t.equal(memo.get('k', second, 1), undefined, 'another scope')
  t.equal(memo.get('k', first, 1), undefined, 'and the old one is not kept beside it')
})

t.test('never holds more than max entries in a second', async (t) => {
  const memo = createSecondMemo<number>(() => 0, 2)
  for (let i = 0; i < 5; i++) memo.set(`k${i}`, i)
  t.equal(memo.get('k1'), 1)
  t.equal(memo.get('k2'), undefined, 'past max: not remembered')
})

t.test('tells when it starts afresh: a new second or scope, not each call', async (t) => {
  let clock = 1000
  let fresh = 0
  const memo = createSecondMemo<number>(() => clock, 10, () => { fresh++ })
  const scope = {}
  memo.set('a', 1, scope)
  memo.get('a', scope)
  t.equal(fresh, 1, 'the first use')
  clock = 2000
  memo.get('a', scope)
  t.equal(fresh, 2, 'a new second')
  memo.get('a', {})
  t.equal(fresh, 3, 'a new scope')
  memo.get('a')
  memo.get('b')
  t.equal(fresh, 4)
})
