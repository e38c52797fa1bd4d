// HLS sessions against the embedded store (or MONGODB_URL), counting the store commands: a warm
// session's checks read nothing and write nothing, its lease is renewed by one flush per renewal
// interval; a replica that does not know a session reads it once; a lease that runs out makes
// the next request admit again.

import { countCommands, START, startHlsFixture } from './hls-fixture.js'
import t from 'tap'
import { createHlsSessions, type HlsSessions } from '../../src/billing/hls-sessions.js'
import { sessionCollectionsOf } from '../../src/billing/sessions.js'
import type { StreamClaims } from '../../src/signing/stream-signature.js'

const { store, billing } = await startHlsFixture(t, 'one', 'acct-one', 1)
const sessions = sessionCollectionsOf(store.collections)

let clock = START
const now = (): number => clock
const IDLE_MS = 15_000

function replica (): HlsSessions {
  return createHlsSessions({ billing, nodePatterns: async () => ['streaming'], idleMs: IDLE_MS, maxMs: 3_600_000, now })
}

function grant (jti: string): StreamClaims {
  const iat = Math.floor(clock / 1000)
  return { iss: 'gw', aud: 'node-a', sub: 'UIN-DEMO-1/cam-1', fmt: 'hls', own: 'acct-one', jti, iat, exp: iat + 60 }
}

/** The store commands run while fn runs, by name. */
const commands = async (fn: () => Promise<void>): Promise<Record<string, number>> => await countCommands(store, fn)

t.test('a warm session: no read per segment, one lease renewal per interval', async (t) => {
  const gateway = replica()
  t.teardown(() => gateway.close())
  const claims = grant('warm')
  const viewer = { node: 'node-a', address: '198.51.100.1' }
  t.same(await gateway.check(claims, viewer), { allowed: true })
  // 600 checks over 60 s (ten a second): the renewal interval is 5 s, the flusher's pace.
  let checks = 0
  const counts = await commands(async () => {
    for (let i = 0; i < 600; i++) {
      clock += 100
      const verdict = await gateway.check(claims, viewer)
      if (!verdict.allowed) throw verdict.error
      if (++checks % 50 === 0) await gateway.flush()
    }
  })
  t.equal(counts.find ?? 0, 0, 'no reads')
  t.equal(counts.findAndModify ?? 0, 0)
  t.equal(counts.update, 2 * 12, 'twelve renewals, each of the session and its slot')
  t.equal(gateway.size, 1)
  const stored = await sessions.sessions.findOne({ owner: 'acct-one', expires_at: { $gt: new Date(clock) } })
  t.ok(stored !== null && stored.renewed_by === 'requests', 'the live session is in the store, marked as renewed by its requests')
  clock += IDLE_MS
})

t.test('another replica reads a session it does not know once, then continues it from memory', async (t) => {
  const a = replica()
  const b = replica()
  const claims = grant('shared')
  const viewer = { node: 'node-a', address: '198.51.100.2' }
  t.same(await a.check(claims, viewer), { allowed: true })
  const counts = await commands(async () => {
    for (let i = 0; i < 20; i++) {
      clock += 500
      t.same(await (i % 2 === 0 ? b : a).check(claims, viewer), { allowed: true })
    }
  })
  t.equal(counts.find, 1, 'one read, by the replica that did not know it')
  t.match(await b.check(grant('other'), { node: 'node-a', address: '198.51.100.3' }), {
    allowed: false, error: { code: 'GW_FORBIDDEN', message: /GW_LIMIT_EXCEEDED/ }
  }, 'a second viewer does not fit the limit of one')
  clock += IDLE_MS
  t.same(await b.check(grant('other'), { node: 'node-a', address: '198.51.100.3' }), { allowed: true }, 'once the first is idle it does')
  clock += IDLE_MS
})

t.test('concurrent first requests of one viewer make one admission', async (t) => {
  const gateway = replica()
  const viewer = { node: 'node-a', address: '198.51.100.4' }
  const one = await commands(async () => { t.same(await gateway.check(grant('single'), viewer), { allowed: true }) })
  clock += IDLE_MS
  const burst = await commands(async () => {
    const claims = grant('burst')
    const verdicts = await Promise.all(Array.from({ length: 10 }, () => gateway.check(claims, viewer)))
    t.ok(verdicts.every((v) => v.allowed))
  })
  t.same(burst, one, 'ten requests at once cost what one does')
  clock += IDLE_MS
})
