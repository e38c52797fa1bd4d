// HLS session leases written behind the requests, against the embedded store (or MONGODB_URL): a
// warm check makes no store call and waits for none; one flush renews every session seen in a
// few writes whatever their number; a flush the store fails fails no request and lands once the
// store is back; a flush that finds a session ended or run out has its next request refused or
// admitted again; the timer flushes when requests stop, and close() writes the last renewals.

import { countCommands, START, startHlsFixture } from './hls-fixture.js'
import t, { type Test } from 'tap'
import { createHlsSessions, hlsSessionKey, type HlsSessions, type HlsSessionsOptions, type HlsStoreCall } from '../../src/billing/hls-sessions.js'
import { endSession } from '../../src/billing/end-session.js'
import { sessionCollectionsOf } from '../../src/billing/sessions.js'
import { newSessionId, type StreamClaims } from '../../src/signing/stream-signature.js'

const { store, billing } = await startHlsFixture(t, 'many', 'acct-many', 500)
const sessions = sessionCollectionsOf(store.collections)

let clock = START
const now = (): number => clock
const IDLE_MS = 15_000
const RENEW_EVERY_MS = 5000
/**
 * A lease ends HLS idle after its viewer's last request rounded down to the renewal interval:
 * the tests start on that grid, so that they can name each lease end.
 */
const onGrid = (every = RENEW_EVERY_MS): void => { clock = Math.ceil(clock / every) * every }

interface Counted {
  gateway: HlsSessions
  calls: Record<HlsStoreCall, number>
  writes: { admit: number, renew: number }
}

function replica (t: Test, options: Partial<HlsSessionsOptions> = {}): Counted {
  const calls: Record<HlsStoreCall, number> = { read: 0, admit: 0, renew: 0, 'renew-failed': 0 }
  const writes = { admit: 0, renew: 0 }
  const gateway = createHlsSessions({
    billing,
    nodePatterns: async () => ['streaming'],
    idleMs: IDLE_MS,
    maxMs: 3_600_000,
    now,
    onStore: (call) => { calls[call]++ },
    onStoreWrite: (op) => { writes[op]++ },
    ...options
  })
  t.teardown(() => gateway.close())
  return { gateway, calls, writes }
}

function grant (): StreamClaims {
  const sid = newSessionId()
  const iat = Math.floor(clock / 1000)
  return { iss: 'gw', aud: 'node-a', sub: 'UIN-DEMO-1/cam-1', fmt: 'hls', own: 'acct-many', jti: sid, sid, iat, exp: iat + 60 }
}

interface Viewer { claims: StreamClaims, node: string, address: string, key: string }

let addresses = 0
function viewer (): Viewer {
  const claims = grant()
  const address = `198.51.${Math.floor(addresses / 250)}.${(addresses++ % 250) + 1}`
  return { claims, node: 'node-a', address, key: hlsSessionKey(claims.sid ?? '', address) }
}

async function check (gateway: HlsSessions, v: Viewer): Promise<void> {
  const verdict = await gateway.check(v.claims, { node: v.node, address: v.address })
  if (!verdict.allowed) throw verdict.error
}

/** The store commands run while fn runs, by name. */
const commands = async (fn: () => Promise<void>): Promise<Record<string, number>> => await countCommands(store, fn)

async function until (what: string, condition: () => Promise<boolean>, deadlineMs = 10_000): Promise<void> {
  const started = Date.now()
  while (!await condition()) {
    if (Date.now() - started > deadlineMs) throw new Error(`not within ${deadlineMs} ms: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const leaseOf = async (v: Viewer): Promise<number | undefined> => (await sessions.sessions.findOne({ _id: v.key }))?.expires_at.getTime()

t.test('many warm sessions: no store call per request, one flush of two writes per interval for all of them', async (t) => {
  onGrid()
  const N = 100
  const { gateway, calls, writes } = replica(t, { renewEveryMs: RENEW_EVERY_MS })
  const viewers = Array.from({ length: N }, viewer)
  for (const v of viewers) await check(gateway, v)
  t.equal(calls.admit, N, 'each session admitted once')
  const reads = calls.read
  const admitWrites = writes.admit
  t.ok(admitWrites >= 3 * N, `an admission writes its seat, its slot and its document (${admitWrites / N} writes each)`)

  // A minute of one request per viewer per second: 6,000 checks.
  let storeCallsInChecks = 0
  const counts = await commands(async () => {
    for (let s = 1; s <= 60; s++) {
      clock += 1000
      for (const v of viewers) {
        const before = calls.read + calls.admit + calls.renew
        await check(gateway, v)
        storeCallsInChecks += calls.read + calls.admit + calls.renew - before
      }
      // The flusher's pace, by the test's clock.
      if (s % 5 === 0) await gateway.flush()
    }
  })
  t.equal(storeCallsInChecks, 0, 'no check made a store call')
  t.equal(calls.renew, 12, 'one flush per 5 s')
  t.equal(calls.read, reads, 'every renewal matched: nothing to read back')
  t.equal(writes.renew, 2 * 12, 'each flush one write of the sessions and one of their slots, for all of them')
  t.same(counts, { update: 24 }, 'and nothing else reached the store')
  t.equal(writes.admit, admitWrites, 'no admission either')
  t.comment(`store writes per session per minute, warm: ${(writes.renew / N).toFixed(2)} (an awaited renewal per session each 5 s had been 24)`)

  const leases = await sessions.sessions.find({ _id: { $in: viewers.map((v) => v.key) } }, { projection: { expires_at: 1, last_seen: 1 } }).toArray()
  t.equal(leases.length, N, 'every session in the store')
  t.ok(leases.every((doc) => doc.expires_at.getTime() === clock + IDLE_MS), 'every lease ends HLS idle after the last request')
  t.ok(leases.every((doc) => doc.last_seen?.getTime() === clock), 'and names it as when its viewer was last seen')
  const slots = await sessions.slots.find({ owner: 'acct-many', holder: { $in: viewers.map((v) => v.key) } }).toArray()
  t.equal(slots.length, N, 'one slot each')
  t.ok(slots.every((doc) => doc.expires_at.getTime() === clock + IDLE_MS), 'every slot\'s lease with it')
  clock += IDLE_MS
})

t.test('a viewer moving to another node: the next flush writes where it plays, without the request waiting', async (t) => {
  onGrid()
  const { gateway, calls } = replica(t)
  const v = viewer()
  await check(gateway, v)
  clock += 1000
  const before = calls.renew
  await check(gateway, { ...v, node: 'node-b' })
  t.equal(calls.renew, before, 'the request wrote nothing')
  t.equal((await sessions.sessions.findOne({ _id: v.key }))?.node, 'node-a')
  await gateway.flush()
  t.equal((await sessions.sessions.findOne({ _id: v.key }))?.node, 'node-b', 'the flush did')
  clock += IDLE_MS
})

t.test('a session ended in the store is refused once a flush finds it ended; one run out is admitted again', async (t) => {
  onGrid()
  const { gateway, calls } = replica(t)
  const ended = viewer()
  const lapsed = viewer()
  const going = viewer()
  for (const v of [ended, lapsed, going]) await check(gateway, v)
  const reads = calls.read
  // Ended by another replica, whose poll this one missed; the other's lease run out (its viewer
  // away longer than the lease, by the store's account).
  t.ok(await endSession(sessions, ended.key, { by: 'admin:ops', reason: 'ended', nowMs: clock }))
  await sessions.sessions.updateOne({ _id: lapsed.key }, { $set: { expires_at: new Date(clock) } })
  clock += 5000
  for (const v of [ended, lapsed, going]) await check(gateway, v)
  t.pass('answered from memory until the flush')
  await gateway.flush()
  t.equal(calls.read, reads + 1, 'the flush renewed one session of three, and read which')
  t.match(await gateway.check(ended.claims, ended), { allowed: false, error: { code: 'GW_SESSION_ENDED', statusCode: 403 } }, 'the ended one is refused')
  const admits = calls.admit
  t.same(await gateway.check(lapsed.claims, lapsed), { allowed: true }, 'the one whose lease ran out is admitted again (its grant is in its exp)')
  t.equal(calls.admit, admits + 1, 'by an admission')
  t.same(await gateway.check(going.claims, going), { allowed: true }, 'the live one goes on')
  t.equal(await leaseOf(going), clock + IDLE_MS, 'the live one renewed')
  t.equal((await sessions.sessions.findOne({ _id: ended.key }))?.expires_at.getTime(), clock - 5000, 'the ended one not brought back')
  clock += IDLE_MS
})

t.test('the timer flushes when requests stop', async (t) => {
  onGrid(500)
  const { gateway, calls } = replica(t, { renewEveryMs: 500 })
  const v = viewer()
  await check(gateway, v)
  clock += 500
  await check(gateway, v)
  clock += 400
  await gateway.flush()
  t.equal(await leaseOf(v), clock - 400 + IDLE_MS, 'the flush wrote the request before it')
  // A request 100 ms after that flush, then none: the timer writes it once the flush is due.
  clock += 100
  await check(gateway, v)
  const renewals = calls.renew
  clock += 400
  await until('the last request\'s renewal is written by the timer', async () => await leaseOf(v) === clock - 400 + IDLE_MS)
  t.equal(calls.renew, renewals + 1, 'by one flush')
  clock += IDLE_MS
})

t.test('close() writes the renewals not yet due', async (t) => {
  onGrid()
  clock += 1000
  const { gateway } = replica(t)
  const v = viewer()
  await check(gateway, v)
  clock += RENEW_EVERY_MS - 1000
  await check(gateway, v)
  t.equal(await leaseOf(v), clock - RENEW_EVERY_MS + 1000 + IDLE_MS, 'not written yet: no flush is due')
  await gateway.close()
  t.equal(await leaseOf(v), clock + IDLE_MS, 'close() wrote it')
  clock += IDLE_MS
})
