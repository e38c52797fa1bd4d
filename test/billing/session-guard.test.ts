// Revocation and suspension reach the viewer: a token revoked (admin API, CLI, or the console's
// DELETE /api/v1/tokens/:id), a token past its expiry (the clock moved), or an account
// suspended ends every session it feeds, HLS sessions and hook plays alike, on both replicas of
// one store, within a few seconds: long before AUTH_GRANT_TTL_MS. Sessions of other tokens and
// accounts go on.

import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { createToken } from '../../src/auth/token-admin.js'
import { runTokenCommand } from '../../src/commands/token.js'
import { demoNodeKey } from '../../src/demo/demo-data.js'
import { createGateway } from '../../src/gateway.js'
import { cityFixture } from '../fixtures/mmdb/paths.js'
import { accountWithLimit, hookUrl, NODE, postJson, testSigner } from '../handlers/node/hook-fixtures.js'
import { startSystem } from '../helpers/system.js'

let clock = Date.parse('2030-01-01T00:00:00Z')
const now = (): number => clock
const system = await startSystem(t, { now, config: { sessionEndPollMs: 50, sessionGuardMs: 100, authGrantTtlMs: 60_000 } })
const signer = testSigner(now)
const A = system.gateway.app
const replica = await createGateway({ config: { ...system.config, cityDatabase: cityFixture }, store: system.store, now, defaultMetrics: false })
t.teardown(() => replica.close())
const B = replica.app
const { tokens, sessions } = system.store.collections
const ADMIN = { authorization: 'Bearer demo-admin-token' }

// The node drops hook plays through its control URL: a loopback stand-in that records them.
const drops: string[] = []
const control = http.createServer((req, res) => { drops.push(req.url ?? ''); res.end('1') })
await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve))
t.teardown(() => new Promise<void>((resolve) => { control.closeAllConnections(); control.close(() => resolve()) }))
await system.store.collections.nodes.updateOne({ _id: NODE }, { $set: { control: { kind: 'nginx-rtmp', url: `http://127.0.0.1:${(control.address() as AddressInfo).port}/control` } } })

async function viewerToken (owner: string, expiresAt: Date | null = null): Promise<{ token: string, tid: string }> {
  const { token, doc } = await createToken(tokens, { owner_type: 'account', owner_id: owner, grants: [{ object_type: 'camera', object_id: 'UIN-DEMO-1/*', rights: ['view'] }], expires_at: expiresAt })
  return { token, tid: doc._id }
}

let plays = 0
/** An HLS session started on replica A and continued on B, and a hook play, both fed by the token. */
async function watch (owner: string, tid: string): Promise<{ hls: string, address: string, clientId: string }> {
  const n = ++plays
  const hls = signer.sign({ own: owner, fmt: 'hls', jti: `guard-${n}`, tid })
  const address = `198.51.100.${n}`
  t.equal(await verify(A, hls, address), 204)
  t.equal(await verify(B, hls, address, 'seg-1.ts'), 204)
  const clientId = String(1000 + n)
  const sig = signer.sign({ own: owner, tid })
  const played = await postJson(hookUrl(system, '/hooks/srs'), { action: 'on_play', client_id: clientId, ip: address, app: 'live', stream: 'UIN-DEMO-1_cam-1', param: `?server=UIN-DEMO-1&camera=cam-1&sig=${sig}` })
  t.equal(played.json().code, 0)
  return { hls, address, clientId }
}

async function verify (app: typeof A, grant: string, address: string, file = 'index.m3u8'): Promise<number | string> {
  const answer = await app.inject({
    method: 'GET',
    url: '/verify',
    headers: { 'x-original-uri': `/hls/${grant}/UIN-DEMO-1/cam-1/${file}`, 'x-geogate-node': NODE, 'x-real-ip': address, authorization: `Bearer ${demoNodeKey(NODE)}` }
  })
  return answer.statusCode === 204 ? 204 : answer.json().error.code
}

async function liveOf (owner: string): Promise<number> {
  return await sessions.countDocuments({ owner, expires_at: { $gt: new Date(clock) } })
}

/** Both replicas refuse the HLS session, the hook play was dropped, nothing of the owner is live: how long it took. */
async function stopped (play: { hls: string, address: string, clientId: string }, owner: string, left = 0): Promise<number> {
  const started = Date.now()
  for (let file = 2; ; file++) {
    const [a, b] = [await verify(A, play.hls, play.address, `seg-${file}.ts`), await verify(B, play.hls, play.address, `seg-${file}.ts`)]
    if (a === 'GW_SESSION_ENDED' && b === 'GW_SESSION_ENDED' && drops.includes(`/control/drop/client?clientid=${play.clientId}`) && await liveOf(owner) === left) break
    if (Date.now() - started > 5000) throw new Error(`not stopped within 5 s: A ${a}, B ${b}, drops ${drops.join(' ')}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return Date.now() - started
}

t.test('a token revoked through the admin API: its sessions end on both replicas, others go on', async (t) => {
  const owner = await accountWithLimit(system, null)
  const revoked = await viewerToken(owner)
  const kept = await viewerToken(owner)
  const play = await watch(owner, revoked.tid)
  const other = await watch(owner, kept.tid)
  const answer = await A.inject({ method: 'POST', url: '/api/v1/tokens/revoke', headers: ADMIN, payload: { token: revoked.token } })
  t.equal(answer.statusCode, 204)
  t.comment(`stopped ${await stopped(play, owner, 2)} ms after the API revoked it`)
  t.equal(await sessions.countDocuments({ owner, end_reason: 'revoked' }), 2, 'its HLS session and its hook play')
  t.equal(await verify(A, other.hls, other.address, 'seg-5.ts'), 204, 'the other token\'s HLS session goes on')
  t.equal(await verify(B, other.hls, other.address, 'seg-6.ts'), 204)
  t.notOk(drops.includes(`/control/drop/client?clientid=${other.clientId}`), 'and its hook play')
  t.match(await sessions.findOne({ owner, end_reason: 'revoked' }), { ended_by: 'geogate' })
})

t.test('a token revoked by `geogate token revoke`, straight in the store', async (t) => {
  const owner = await accountWithLimit(system, null)
  const { token, tid } = await viewerToken(owner)
  const play = await watch(owner, tid)
  const printed: string[] = []
  await runTokenCommand(['revoke', token], system.store, now, (line) => printed.push(line))
  t.same(printed, ['revoked'])
  t.comment(`stopped ${await stopped(play, owner)} ms after the CLI revoked it`)
})

t.test('a token revoked from the console (DELETE /api/v1/tokens/:id)', async (t) => {
  const owner = await accountWithLimit(system, null)
  const { tid } = await viewerToken(owner)
  const play = await watch(owner, tid)
  t.equal((await B.inject({ method: 'DELETE', url: `/api/v1/tokens/${tid}`, headers: ADMIN })).statusCode, 204)
  t.comment(`stopped ${await stopped(play, owner)} ms after the console revoked it`)
})

t.test('a token that expires: its sessions end once the clock passes its expiry', async (t) => {
  const owner = await accountWithLimit(system, null)
  const { tid } = await viewerToken(owner, new Date(clock + 10_000))
  const play = await watch(owner, tid)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(await verify(A, play.hls, play.address, 'seg-3.ts'), 204, 'before its expiry the guard leaves it')
  // Past the token's expiry, within the sessions' leases (HLS_IDLE_S, SESSION_LEASE_S).
  clock += 11_000
  t.comment(`stopped ${await stopped(play, owner)} ms after the clock passed the token's expiry`)
  t.equal(await sessions.countDocuments({ owner, end_reason: 'revoked' }), 2, 'an expired token counts as revoked')
})

t.test('an account suspended: every session it feeds ends, whatever its token', async (t) => {
  const owner = await accountWithLimit(system, null)
  const first = await viewerToken(owner)
  const second = await viewerToken(owner)
  const play = await watch(owner, first.tid)
  await watch(owner, second.tid)
  const bystander = await accountWithLimit(system, null)
  const theirs = await watch(bystander, (await viewerToken(bystander)).tid)
  const patched = await A.inject({ method: 'PATCH', url: `/api/v1/accounts/${owner}`, headers: { ...ADMIN, 'content-type': 'application/merge-patch+json' }, payload: '{"status":"suspended"}' })
  t.equal(patched.statusCode, 200)
  t.comment(`stopped ${await stopped(play, owner)} ms after the suspension`)
  t.equal(await sessions.countDocuments({ owner, end_reason: 'suspended' }), 4, 'both tokens\' HLS sessions and hook plays')
  t.equal(await liveOf(bystander), 2, 'another account\'s sessions go on')
  t.equal(await verify(B, theirs.hls, theirs.address, 'seg-7.ts'), 204)
})
