// A token's sharing limit end to end: max_sessions set through the admin API (and the CLI),
// learned by the gateway from the auth-server's introspection, carried in the grant with the
// token's id, and counted where plays are admitted, with token slots on the store: exact under
// a hundred concurrent plays across two gateway replicas, beside the account's own limit, which
// still holds; HLS sessions hold and renew their token slot; a redirect for a token known to be
// at its limit is refused early with 429 GW_TOKEN_LIMIT. Real resolver, auth-server, embedded
// store and HTTP; the clock is the test's.

import t from 'tap'
import { request } from 'undici'
import { hashToken } from '../../src/auth/token-hash.js'
import { runTokenCommand } from '../../src/commands/token.js'
import { demoNodeKey } from '../../src/demo/demo-data.js'
import { createGateway } from '../../src/gateway.js'
import { tokenSlotOwner } from '../../src/billing/token-slots.js'
import { get, markDemoNodesAlive, startSystem, type Answer } from '../helpers/system.js'
import { postJson, testSigner, type Posted } from '../handlers/node/hook-fixtures.js'

let clock = Date.now()
const now = (): number => clock
const IDLE_S = 10
// A hundred admissions at once share this process's one thread with the store: each query gets
// the time a busy test machine may need (the deadlines have tests of their own).
const system = await startSystem(t, { now, config: { hlsIdleS: IDLE_S, authTimeoutMs: 5000, resolverTimeoutMs: 5000, mongodbQueryTimeoutMs: 10_000 } })
const replica = await createGateway({ config: system.config, store: system.store, now, defaultMetrics: false })
t.teardown(() => replica.close())
const replicaUrl = await replica.app.listen({ host: '127.0.0.1', port: 0 })
const { tariffs, accounts, tokens, servers, sessionSlots } = system.store.collections
const ADMIN = 'demo-admin-token'

await servers.insertOne({ _id: 'UIN-SHARE', partner: 'demo', owner: 'acct-wide', dc: 'msk', online: true, cameras: { 'cam-1': { online: true, streams: ['main'] } } })

/** The clock moved on, with the demo nodes still alive on both replicas. */
async function later (ms: number): Promise<void> {
  clock += ms
  await markDemoNodesAlive(system.store, new Date(clock))
  await Promise.all([system.gateway.refreshSnapshot(), replica.refreshSnapshot()])
}

let accountCount = 0
/** An account whose tariff allows `limit` streams at once (null: any number). */
async function account (limit: number | null): Promise<string> {
  const id = `acct-share-${++accountCount}`
  await tariffs.insertOne({ _id: `tariff-${id}`, formats: ['flv', 'hls', 'ws-fmp4'], patterns: ['streaming'], max_concurrent_streams: limit })
  await accounts.insertOne({ _id: id, tariff: `tariff-${id}`, status: 'active' })
  return id
}

async function admin (method: 'POST' | 'PATCH' | 'GET', path: string, body?: unknown): Promise<{ status: number, json: any }> {
  const res = await request(`${system.gatewayUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) })
  })
  const text = await res.body.text()
  return { status: res.statusCode, json: text === '' ? null : JSON.parse(text) }
}

/** A token of owner that views UIN-SHARE, issued through the admin API. */
async function token (owner: string, maxSessions?: number): Promise<{ token: string, id: string }> {
  const answer = await admin('POST', '/tokens', {
    owner_type: 'account', owner_id: owner, grants: [{ object_type: 'camera', object_id: 'UIN-SHARE/*', rights: ['view'] }], ...(maxSessions !== undefined && { max_sessions: maxSessions })
  })
  if (answer.status !== 201) throw new Error(`token: ${answer.status} ${JSON.stringify(answer.json)}`)
  return { token: answer.json.token, id: answer.json.id }
}

/** An FLV URL the gateway signs for the token, and the node it is for. */
async function flvGrant (accessToken: string): Promise<{ node: string, param: string, claims: Record<string, unknown> }> {
  const query = new URLSearchParams({ server: 'UIN-SHARE', camera: 'cam-1', access_token: accessToken, redirect: 'false' })
  const answer = await get(`${system.gatewayUrl}/flv?${query.toString()}`)
  if (answer.status !== 200) throw new Error(`redirect: ${answer.status} ${answer.body}`)
  const { url, node } = answer.json() as { url: string, node: { id: string } }
  const search = new URL(url).search
  const sig = new URLSearchParams(search).get('sig') ?? ''
  const claims = JSON.parse(Buffer.from(sig.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>
  return { node: node.id, param: search, claims }
}

/** SRS's on_play for one client of the grant, at one replica. */
function play (base: string, grant: { node: string, param: string }, clientId: string): Promise<Posted> {
  const query = new URLSearchParams({ node: grant.node, key: demoNodeKey(grant.node) })
  return postJson(`${base}/hooks/srs?${query.toString()}`, {
    action: 'on_play', client_id: clientId, ip: '81.2.69.160', app: 'live', stream: 'UIN-SHARE_cam-1', param: grant.param
  })
}

function tally (answers: Posted[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const answer of answers) {
    const body = answer.json() as { code: number, error?: { code: string } }
    const key = body.code === 0 ? 'allowed' : body.error?.code ?? `code ${body.code}`
    counts[key] = (counts[key] ?? 0) + 1
  }
  return counts
}

const liveTokenSlots = (id: string): Promise<number> => sessionSlots.countDocuments({ owner: tokenSlotOwner(id), expires_at: { $gt: new Date(clock) } })

t.test('the grant carries the token\'s id and its limit, as the auth-server told it', async (t) => {
  const owner = await account(null)
  const limited = await token(owner, 3)
  const plain = await token(owner)
  const grant = await flvGrant(limited.token)
  t.equal(grant.claims.tms, 3)
  t.equal(Buffer.from(String(grant.claims.tid), 'base64url').toString('hex'), hashToken(limited.token))
  t.notOk('tms' in (await flvGrant(plain.token)).claims, 'a token without a limit: no tms')
})

t.test('100 concurrent plays on two replicas of a token limited to 10 (account unlimited): exactly 10', async (t) => {
  const owner = await account(null)
  const { token: shared, id } = await token(owner, 10)
  const grant = await flvGrant(shared)
  const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => play(i % 2 === 0 ? system.gatewayUrl : replicaUrl, grant, `viewer-${i}`)))
  t.same(tally(answers), { allowed: 10, GW_TOKEN_LIMIT: 90 })
  for (const answer of answers.filter((a) => a.json().code !== 0)) t.match(answer.json(), { code: 429, error: { message: /already feeds 10 viewers at once/ } })
  t.equal(await liveTokenSlots(id), 10, 'ten token slots held')
  t.equal(await system.store.collections.sessions.countDocuments({ owner, expires_at: { $gt: new Date(clock) } }), 10, 'ten sessions')

  // A stop frees its token slot at once, on any replica; the next viewer plays.
  const admitted = answers.findIndex((a) => a.json().code === 0)
  const query = new URLSearchParams({ node: grant.node, key: demoNodeKey(grant.node) })
  t.same((await postJson(`${replicaUrl}/hooks/srs?${query.toString()}`, {
    action: 'on_stop', client_id: `viewer-${admitted}`, ip: '81.2.69.160', app: 'live', stream: 'UIN-SHARE_cam-1', param: grant.param
  })).json(), { code: 0 })
  t.same((await play(system.gatewayUrl, grant, 'late')).json(), { code: 0 }, 'the freed slot admits the next')
  t.match((await play(replicaUrl, grant, 'later')).json(), { code: 429, error: { code: 'GW_TOKEN_LIMIT' } }, 'and it is full again')

  // Another token of the same account has limits of its own.
  const other = await token(owner, 10)
  const otherGrant = await flvGrant(other.token)
  t.same(tally(await Promise.all(Array.from({ length: 12 }, (_, i) => play(i % 2 === 0 ? system.gatewayUrl : replicaUrl, otherGrant, `other-${i}`)))), { allowed: 10, GW_TOKEN_LIMIT: 2 })
})

t.test('the account\'s own limit still holds: a token limited to 10 on an account limited to 5 feeds 5', async (t) => {
  const owner = await account(5)
  const { token: shared, id } = await token(owner, 10)
  const grant = await flvGrant(shared)
  const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => play(i % 2 === 0 ? system.gatewayUrl : replicaUrl, grant, `viewer-${i}`)))
  const counts = tally(answers)
  t.equal(counts.allowed, 5, 'five admitted')
  t.equal((counts.GW_LIMIT_EXCEEDED ?? 0) + (counts.GW_TOKEN_LIMIT ?? 0), 95, 'the others refused by one limit or the other')
  t.ok((counts.GW_LIMIT_EXCEEDED ?? 0) > 0, 'the account\'s limit refused some')
  t.equal(await liveTokenSlots(id), 5, 'a play the account refused keeps no token slot')
})

t.test('HLS sessions hold a token slot, keep it while they play, and give it back when idle', async (t) => {
  const owner = await account(null)
  const { id } = await token(owner, 2)
  const signer = testSigner(now)
  const node = 'node-moscow-1'
  let jtis = 0
  // Grants as the gateway signs them for this token: its id on the wire and its limit.
  const hlsPath = (file: string, jti: string): string => {
    const grant = signer.sign({ own: owner, fmt: 'hls', sub: 'UIN-SHARE/cam-1', jti, tid: id, tms: 2 })
    return `/hls/${grant}/UIN-SHARE/cam-1/${file}`
  }
  const viewers = ['198.51.100.1', '198.51.100.2', '198.51.100.3'].map((address) => ({ address, jti: `share-${++jtis}` }))
  const verify = (viewer: { address: string, jti: string }, file: string, base = system.gatewayUrl): Promise<Answer> => get(`${base}/verify`, {
    headers: { 'x-original-uri': hlsPath(file, viewer.jti), 'x-geogate-node': node, 'x-real-ip': viewer.address, authorization: `Bearer ${demoNodeKey(node)}` }
  })
  const [first, second, third] = viewers as [typeof viewers[0], typeof viewers[0], typeof viewers[0]]
  t.equal((await verify(first, 'index.m3u8')).status, 204)
  t.equal((await verify(second, 'index.m3u8', replicaUrl)).status, 204)
  const refused = await verify(third, 'index.m3u8')
  t.equal(refused.status, 403, 'a third viewer of the token is refused')
  t.match(refused.json().error, { code: 'GW_FORBIDDEN', message: /GW_TOKEN_LIMIT/ })

  // Three idle periods of segments: the token slots are renewed with the sessions' leases.
  for (let s = 0; s < 3 * IDLE_S / 2; s++) {
    clock += 2000
    t.equal((await verify(first, `seg-${s}.ts`)).status, 204)
    t.equal((await verify(second, `seg-${s}.ts`, replicaUrl)).status, 204)
  }
  t.equal(await liveTokenSlots(id), 2, 'both token slots still held')
  const fresh = { address: third.address, jti: `share-${++jtis}` }
  t.match((await verify(fresh, 'index.m3u8', replicaUrl)).json().error, { message: /GW_TOKEN_LIMIT/ }, 'still refused')

  // The second viewer stops; once its lease is over, its slot is another viewer's.
  for (let s = 0; s < IDLE_S / 2 + 1; s++) {
    clock += 2000
    t.equal((await verify(first, `late-${s}.ts`)).status, 204)
  }
  const next = { address: third.address, jti: `share-${++jtis}` }
  t.equal((await verify(next, 'index.m3u8', replicaUrl)).status, 204, 'the idle session\'s slot admits the next viewer')
})

t.test('a redirect for a token known to be at its limit is refused early with 429 GW_TOKEN_LIMIT', async (t) => {
  await later(0)
  const owner = await account(null)
  const { token: shared } = await token(owner, 2)
  const grant = await flvGrant(shared)
  t.same(tally(await Promise.all([play(system.gatewayUrl, grant, 'a'), play(replicaUrl, grant, 'b')])), { allowed: 2 })
  await later(5000) // past the cached count's TTL
  const query = new URLSearchParams({ server: 'UIN-SHARE', camera: 'cam-1', access_token: shared })
  const refused = await get(`${system.gatewayUrl}/flv?${query.toString()}`)
  t.equal(refused.status, 429)
  t.equal(refused.json().error.code, 'GW_TOKEN_LIMIT')
  t.match(refused.headers['retry-after'], /^\d+$/)
})

t.test('max_sessions through the admin API: shown, changed, refused when not a count', async (t) => {
  const owner = await account(null)
  for (const bad of [0, -1, 1.5, '3', 1_000_001]) {
    const answer = await admin('POST', '/tokens', { owner_type: 'account', owner_id: owner, grants: [{ object_type: 'camera', object_id: '*', rights: ['view'] }], max_sessions: bad })
    t.equal(answer.status, 400, `max_sessions ${JSON.stringify(bad)}`)
  }
  t.equal(await tokens.countDocuments({ owner_id: owner }), 0, 'nothing stored')
  const made = await token(owner, 4)
  const listed = (await admin('GET', '/tokens')).json.items.find((item: { id: string }) => item.id === made.id)
  t.equal(listed.max_sessions, 4)
  const changed = await admin('PATCH', `/tokens/${made.id}`, { max_sessions: 1 })
  t.equal(changed.status, 200)
  t.equal(changed.json.max_sessions, 1)
  t.equal((await tokens.findOne({ _id: made.id }))?.max_sessions, 1)
  t.equal((await admin('PATCH', `/tokens/${made.id}`, { max_sessions: 0 })).status, 400)
  const lifted = await admin('PATCH', `/tokens/${made.id}`, { max_sessions: null })
  t.equal(lifted.json.max_sessions, null)
  t.notOk('max_sessions' in ((await tokens.findOne({ _id: made.id })) ?? {}), 'lifted: the field is gone')
  t.equal((await admin('PATCH', `/tokens/${'0'.repeat(64)}`, { max_sessions: 2 })).status, 404)
})

t.test('geogate token create --max-sessions', async (t) => {
  const lines: string[] = []
  await runTokenCommand(['create', '--owner-type', 'account', '--owner-id', 'acct-cli', '--grant', 'camera:*:view', '--max-sessions', '3'], system.store, now, (line) => lines.push(line))
  t.equal((await tokens.findOne({ _id: hashToken(lines[0] ?? '') }))?.max_sessions, 3)
  t.match(lines[1], /at most 3 viewers at once/)
  for (const bad of ['0', 'x', '2.5', '10000000']) {
    await t.rejects(runTokenCommand(['create', '--owner-type', 'account', '--owner-id', 'acct-cli', '--grant', 'camera:*:view', '--max-sessions', bad], system.store, now, () => {}), { message: /--max-sessions/ })
  }
})
