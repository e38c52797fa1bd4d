// One viewer, one session across nodes: the grants of one answer (one per pathway node) share a
// session id, and a viewer moving from one node to another goes on in the same session and the
// same tariff slot, even past the grants' exp, on a replica that knows the session and on one
// that does not; a second viewer of a one-stream account is still refused, and a grant of the
// session used from a second address takes no seat.

import { START, startHlsFixture } from './hls-fixture.js'
import t from 'tap'
import { createHlsSessions, hlsSessionKey, type HlsSessions } from '../../src/billing/hls-sessions.js'
import { sessionCollectionsOf } from '../../src/billing/sessions.js'
import { newSessionId, type StreamClaims } from '../../src/signing/stream-signature.js'

const { store, billing } = await startHlsFixture(t, 'one', 'acct-one', 1)
const sessions = sessionCollectionsOf(store.collections)

let clock = START
const now = (): number => clock
const IDLE_MS = 15_000

function replica (): HlsSessions {
  return createHlsSessions({ billing, nodePatterns: async () => ['streaming'], idleMs: IDLE_MS, maxMs: 3_600_000, now })
}

/** The grants of one answer: one per node, one sid. */
function answer (nodes: string[]): Record<string, StreamClaims> {
  const sid = newSessionId()
  const iat = Math.floor(clock / 1000)
  return Object.fromEntries(nodes.map((node, i) => [node, { iss: 'gw', aud: node, sub: 'UIN-DEMO-1/cam-1', fmt: 'hls', own: 'acct-one', jti: `${sid}-${i}`, sid, iat, exp: iat + 60 }]))
}

/** A second's requests for seconds; the leases written behind every 5 s, at the flusher's pace. */
async function watch (gateway: HlsSessions, claims: StreamClaims, node: string, address: string, seconds: number): Promise<void> {
  for (let i = 0; i < seconds; i++) {
    clock += 1000
    const verdict = await gateway.check(claims, { node, address })
    if (!verdict.allowed) throw verdict.error
    if (clock % 5000 === 0) await gateway.flush()
  }
}

t.test('a viewer moving to another pathway after the grants\' exp keeps its session and its one slot', async (t) => {
  const a = replica()
  const b = replica()
  const first = answer(['node-a', 'node-b'])
  const viewer = '198.51.100.1'
  await watch(a, first['node-a'] as StreamClaims, 'node-a', viewer, 70)
  t.ok(clock / 1000 > (first['node-b'] as StreamClaims).exp, 'past the grants\' exp')

  t.same(await a.check(first['node-b'] as StreamClaims, { node: 'node-b', address: viewer }), { allowed: true }, 'node b, on the replica that knows the session')
  t.same(await b.check(first['node-b'] as StreamClaims, { node: 'node-b', address: viewer }), { allowed: true }, 'node b, on a replica that reads it')
  await watch(b, first['node-b'] as StreamClaims, 'node-b', viewer, 20)

  const stored = await sessions.sessions.find({ owner: 'acct-one', expires_at: { $gt: new Date(clock) } }).toArray()
  t.equal(stored.length, 1, 'one session document')
  t.equal(stored[0]?._id, hlsSessionKey((first['node-a'] as StreamClaims).sid ?? '', viewer))
  t.equal(stored[0]?.node, 'node-b', 'which says where the viewer now plays')
  const slots = await sessions.slots.find({ owner: 'acct-one', expires_at: { $gt: new Date(clock) } }).toArray()
  t.equal(slots.length, 1, 'one tariff slot')

  const second = answer(['node-b', 'node-a'])
  const refused = await a.check(second['node-b'] as StreamClaims, { node: 'node-b', address: '198.51.100.2' })
  t.match(refused, { allowed: false, error: { code: 'GW_FORBIDDEN', message: /GW_LIMIT_EXCEEDED/ } }, 'a second viewer of the account is refused after the move')
  clock += IDLE_MS + 1000
})

t.test('the grants of one session serve one viewer address, whichever node they are for', async (t) => {
  const gateway = replica()
  const grants = answer(['node-a', 'node-b'])
  t.same(await gateway.check(grants['node-a'] as StreamClaims, { node: 'node-a', address: '198.51.100.7' }), { allowed: true })
  const other = await gateway.check(grants['node-b'] as StreamClaims, { node: 'node-b', address: '198.51.100.8' })
  t.match(other, { allowed: false, error: { code: 'GW_GRANT_IN_USE' } }, 'another address with the other pathway\'s grant')
  clock += IDLE_MS + 1000
})
