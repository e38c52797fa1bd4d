// The session guard reads thousands of live sessions, and the tokens and accounts behind them,
// without holding the event loop: requests are answered between slices of its reads (timers
// and I/O run while it works), and it still ends exactly the sessions of revoked tokens and
// suspended accounts.

import t from 'tap'
import { startSessionGuard } from '../../src/billing/session-guard.js'
import type { SessionDoc } from '../../src/store/documents.js'
import { startTestStore } from '../helpers/store.js'

const SESSIONS = 600
const store = await startTestStore(t)
const { sessions, tokens, accounts } = store.collections
const now = Date.parse('2030-01-01T00:00:00Z')

const tid = (i: number): string => i.toString(16).padStart(64, '0')
await accounts.insertMany([
  { _id: 'acct-active', status: 'active', tariff: 'basic' },
  { _id: 'acct-suspended', status: 'suspended', tariff: 'basic' }
] as never)
// Every fifth session's token is gone (revoked); every seventh session's account is suspended.
await tokens.insertMany(Array.from({ length: SESSIONS }, (_, i) => i).filter((i) => i % 5 !== 0).map((i) => ({
  _id: tid(i), owner_type: 'account', owner_id: 'acct-active', grants: [], expires_at: null, created_at: new Date(now)
})) as never)
const live: SessionDoc[] = Array.from({ length: SESSIONS }, (_, i) => ({
  _id: `session-${i}`,
  owner: i % 7 === 0 ? 'acct-suspended' : 'acct-active',
  node: 'node-1',
  client_id: `viewer-${i}`,
  server: 'UIN-1',
  camera: 'cam-1',
  format: 'hls',
  started_at: new Date(now - 1000),
  expires_at: new Date(now + 60_000),
  slot: null,
  jti: `jti-${i}`,
  renewed_by: 'requests',
  tid: tid(i)
}))
await sessions.insertMany(live)

/** Documents handed to the guard since the event loop last turned, and the most there were. */
let sinceTurn = 0
let most = 0
function handedOut (n: number): void {
  sinceTurn += n
  most = Math.max(most, sinceTurn)
}
/** A collection whose find() cursors count the documents they hand out, however they are read. */
function counting<C extends object> (collection: C): C {
  return new Proxy(collection, {
    get (target, prop, receiver) {
      if (prop !== 'find') return Reflect.get(target, prop, receiver)
      return (...args: unknown[]) => {
        const cursor = (target as unknown as { find: (...a: unknown[]) => AsyncIterable<unknown> & { toArray: () => Promise<unknown[]> } }).find(...args)
        return {
          async toArray () {
            const docs = await cursor.toArray()
            handedOut(docs.length)
            return docs
          },
          async * [Symbol.asyncIterator] () {
            for await (const doc of cursor) {
              handedOut(1)
              yield doc
            }
          }
        }
      }
    }
  })
}

t.test('a check of hundreds of live sessions gives the event loop turns, and ends exactly the sessions it should', async (t) => {
  const ended = new Map<string, string>()
  const guard = startSessionGuard({
    collections: { sessions: counting(sessions), tokens: counting(tokens), accounts: counting(accounts) },
    everyMs: 600_000,
    now: () => now,
    end: async (id, reason) => { ended.set(id, reason); return id },
    // A slice far shorter than a document's decoding: a turn after nearly every document.
    sliceMs: 0.001
  })
  t.teardown(() => guard.close())
  let checking = true
  const turn = (): void => {
    sinceTurn = 0
    if (checking) setImmediate(turn)
  }
  setImmediate(turn)
  const count = await guard.check()
  checking = false
  t.ok(most <= 5, `at most ${most} documents were decoded between two turns of the event loop (of ${SESSIONS} sessions and their tokens)`)

  const expected = new Map<string, string>()
  for (let i = 0; i < SESSIONS; i++) {
    if (i % 7 === 0) expected.set(`session-${i}`, 'suspended')
    else if (i % 5 === 0) expected.set(`session-${i}`, 'revoked')
  }
  t.equal(count, expected.size)
  t.same(Object.fromEntries([...ended].sort()), Object.fromEntries([...expected].sort()), 'each session of a suspended account or a revoked token, and no other')
})
