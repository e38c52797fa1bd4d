import t from 'tap'
import { createFailureMemory } from '../../src/cache/failure-memory.js'

const digestOf = (key: string): string => `d:${key.length}:${key.slice(0, 4)}`

t.test('a failure is remembered under the key\'s digest, for its TTL by the injected clock', async (t) => {
  let now = 1000
  const digested: string[] = []
  const memory = createFailureMemory<string>({ keyOf: (key) => { digested.push(key); return digestOf(key) }, maxBytes: 1000, entryBytes: 100, sweepMs: 60_000, now: () => now })
  t.teardown(() => memory.close())
  t.equal(memory.peek('stranger'), undefined)
  t.same(digested, [], 'nothing remembered: no digest taken')
  const denied = new Error('denied')
  memory.remember('stranger', denied, 50)
  t.same(memory.peek('stranger'), { error: denied })
  t.same(memory.peek('strange!'), { error: denied }, 'looked up by the digest alone')
  t.equal(memory.peek('other'), undefined)
  now += 50
  t.same(memory.peek('stranger'), { error: denied }, 'still remembered at its TTL')
  now += 1
  t.equal(memory.peek('stranger'), undefined, 'gone after it')
})

t.test('capped in bytes: the newest are kept; one shared failure is one shared answer', async (t) => {
  const memory = createFailureMemory<string>({ keyOf: (key) => key, maxBytes: 1000, entryBytes: 100, sweepMs: 60_000 })
  t.teardown(() => memory.close())
  const denied = new Error('denied')
  for (let i = 0; i < 25; i++) memory.remember(`k${i}`, denied, 60_000)
  t.equal(memory.count, 10)
  t.equal(memory.bytes, 1000)
  t.equal(memory.peek('k14'), undefined, 'the oldest went')
  t.equal(memory.peek('k24'), memory.peek('k15'), 'the same answer object for the same failure')
})

t.test('expired entries are swept without being looked up; close forgets all', async (t) => {
  const memory = createFailureMemory<string>({ keyOf: (key) => key, maxBytes: 10_000, entryBytes: 100, sweepMs: 20 })
  for (let i = 0; i < 10; i++) memory.remember(`k${i}`, new Error('x'), 30)
  t.equal(memory.count, 10)
  const deadline = Date.now() + 5000
  while (memory.count > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  t.same({ count: memory.count, bytes: memory.bytes }, { count: 0, bytes: 0 })
  memory.remember('k', new Error('x'), 60_000)
  memory.close()
  t.equal(memory.count, 0)
})

t.test('bad options are refused', async (t) => {
  const good = { keyOf: (key: string) => key, maxBytes: 1000, entryBytes: 100, sweepMs: 100 }
  t.throws(() => createFailureMemory({ ...good, maxBytes: 99 }), TypeError, 'less than one entry')
  t.throws(() => createFailureMemory({ ...good, entryBytes: 0 }), TypeError)
  t.throws(() => createFailureMemory({ ...good, sweepMs: 0 }), TypeError)
})
