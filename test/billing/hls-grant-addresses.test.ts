// One HLS grant is one viewer's, against the embedded store (or MONGODB_URL): a grant starts
// sessions for one viewer address, or for as many as its tariff's hls_addresses_per_grant, on
// every replica alike; the same address coming back counts once; refusals are GW_GRANT_IN_USE,
// and once a replica knows a grant is taken, refusing it costs the store nothing.

import t from 'tap'
import type { CommandStartedEvent } from 'mongodb'
import type { AdmissionCollections } from '../../src/billing/admit-session.js'
import { createHlsSessions, type HlsSessions, type HlsVerdict } from '../../src/billing/hls-sessions.js'
import { sessionCollectionsOf } from '../../src/billing/sessions.js'
import type { StreamClaims } from '../../src/signing/stream-signature.js'
import { startTestStore } from '../helpers/store.js'

const store = await startTestStore(t)
const sessions = sessionCollectionsOf(store.collections)
const billing: AdmissionCollections = { accounts: store.collections.accounts, tariffs: store.collections.tariffs, ...sessions }
await store.collections.tariffs.insertMany([
  { _id: 'unlimited', formats: ['hls'], patterns: ['streaming'], max_concurrent_streams: null },
  { _id: 'three-addresses', formats: ['hls'], patterns: ['streaming'], max_concurrent_streams: null, hls_addresses_per_grant: 3 },
  { _id: 'one-stream', formats: ['hls'], patterns: ['streaming'], max_concurrent_streams: 1 }
])
await store.collections.accounts.insertMany([
  { _id: 'acct-unlimited', tariff: 'unlimited', status: 'active' },
  { _id: 'acct-three', tariff: 'three-addresses', status: 'active' },
  { _id: 'acct-one', tariff: 'one-stream', status: 'active' }
])

let clock = Date.parse('2030-01-01T00:00:00Z')
const now = (): number => clock
const IDLE_MS = 15_000

function replica (): HlsSessions {
  return createHlsSessions({ billing, nodePatterns: async () => ['streaming'], idleMs: IDLE_MS, maxMs: 3_600_000, now })
}

let jtis = 0
function grant (own: string): StreamClaims {
  const iat = Math.floor(clock / 1000)
  return { iss: 'gw', aud: 'node-a', sub: 'UIN-DEMO-1/cam-1', fmt: 'hls', own, jti: `grant-${++jtis}`, iat, exp: iat + 60 }
}

const viewer = (address: string): { node: string, address: string } => ({ node: 'node-a', address })
const address = (i: number): string => `198.51.${Math.floor(i / 250)}.${(i % 250) + 1}`
const codes = (verdicts: HlsVerdict[]): Record<string, number> => {
  const counts: Record<string, number> = {}
  for (const v of verdicts) {
    const code = v.allowed ? 'allowed' : v.error.code
    counts[code] = (counts[code] ?? 0) + 1
  }
  return counts
}
const sessionsOf = (claims: StreamClaims): Promise<number> => sessions.sessions.countDocuments({ jti: claims.jti })

/** The store commands on the session collections run while fn runs. */
async function sessionCommands (fn: () => Promise<void>): Promise<number> {
  let count = 0
  const listener = (event: CommandStartedEvent): void => {
    const target = (event.command as Record<string, unknown>)[event.commandName]
    if (target === 'sessions' || target === 'session_slots') count++
  }
  store.client.on('commandStarted', listener)
  try { await fn() } finally { store.client.off('commandStarted', listener) }
  return count
}

t.test('one grant, many addresses: the first is admitted, the others refused with GW_GRANT_IN_USE', async (t) => {
  const gateway = replica()
  const claims = grant('acct-unlimited')
  t.same(await gateway.check(claims, viewer(address(0))), { allowed: true })
  const second = await gateway.check(claims, viewer(address(1)))
  t.match(second, { allowed: false, error: { code: 'GW_GRANT_IN_USE', statusCode: 403, message: /another viewer address/ } })
  // Known taken now: a thousand more addresses cost the store nothing.
  const verdicts: HlsVerdict[] = []
  const commands = await sessionCommands(async () => {
    for (let i = 2; i < 1002; i++) verdicts.push(await gateway.check(claims, viewer(address(i))))
  })
  t.same(codes(verdicts), { GW_GRANT_IN_USE: 1000 })
  t.equal(commands, 0, 'refused from memory')
  t.equal(await sessionsOf(claims), 1, 'one session document')
  t.equal(await sessions.slots.countDocuments({ owner: `grant/${claims.jti}` }), 1, 'one address seat')

  // The holder, on a replica that never saw the grant, continues; so does it after an idle gap.
  const other = replica()
  t.same(await other.check(claims, viewer(address(0))), { allowed: true })
  t.match(await other.check(claims, viewer(address(5))), { allowed: false, error: { code: 'GW_GRANT_IN_USE' } }, 'the store refuses the other replica too')
  clock += IDLE_MS + 1000
  t.same(await other.check(claims, viewer(address(0))), { allowed: true }, 'the same address, back before the grant\'s exp, is admitted again')
  t.equal(await sessions.slots.countDocuments({ owner: `grant/${claims.jti}` }), 1, 'and still holds one seat')
  t.equal(await sessionsOf(claims), 1)
  clock += 60_000
  t.match(await gateway.check(claims, viewer(address(3))), { allowed: false, error: { code: 'GW_TOKEN_INVALID' } }, 'after exp, the grant starts nothing at all')
  clock += IDLE_MS
})

t.test('a tariff allowing 3 addresses: exactly 3 under concurrent starts on two replicas', async (t) => {
  const a = replica()
  const b = replica()
  const claims = grant('acct-three')
  const verdicts = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).check(claims, viewer(address(100 + i)))))
  t.same(codes(verdicts), { allowed: 3, GW_GRANT_IN_USE: 37 })
  t.match(verdicts.find((v) => !v.allowed), { error: { message: /3 other viewer addresses/ } })
  t.equal(await sessionsOf(claims), 3)
  const admitted = verdicts.flatMap((v, i) => v.allowed ? [i] : [])
  // Each admitted address goes on, on either replica; the others stay out on both.
  for (const i of admitted) {
    t.same(await a.check(claims, viewer(address(100 + i))), { allowed: true })
    t.same(await b.check(claims, viewer(address(100 + i))), { allowed: true })
  }
  const refused = verdicts.findIndex((v) => !v.allowed)
  t.match(await a.check(claims, viewer(address(100 + refused))), { allowed: false, error: { code: 'GW_GRANT_IN_USE' } })
  t.match(await b.check(claims, viewer(address(100 + refused))), { allowed: false, error: { code: 'GW_GRANT_IN_USE' } })
  t.equal(await sessionsOf(claims), 3)
  clock += 60_000 + IDLE_MS
})

t.test('an address the grant does not serve takes no stream slot', async (t) => {
  const gateway = replica()
  const first = grant('acct-one')
  t.same(await gateway.check(first, viewer(address(200))), { allowed: true })
  t.match(await gateway.check(first, viewer(address(201))), { allowed: false, error: { code: 'GW_GRANT_IN_USE' } })
  clock += IDLE_MS + 1000
  // The account's one stream is free again: the refused address did not take it meanwhile.
  t.same(await gateway.check(grant('acct-one'), viewer(address(201))), { allowed: true })
  t.equal(await sessions.slots.countDocuments({ owner: 'acct-one', holder: { $exists: true }, expires_at: { $gt: new Date(clock) } }), 1)
  clock += 60_000 + IDLE_MS
})
