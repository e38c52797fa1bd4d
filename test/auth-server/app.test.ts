import { Writable } from 'node:stream'
import t from 'tap'
import { MongoClient } from 'mongodb'
import { request } from 'undici'
import { createToken, revokeToken } from '../../src/auth/token-admin.js'
import { hashToken } from '../../src/auth/token-hash.js'
import type { TokenDoc } from '../../src/store/documents.js'
import { startTestStore } from '../helpers/store.js'
import { startAuthServer } from '../auth/auth-server-fixture.js'

const store = await startTestStore(t)
const tokens = store.collections.tokens
let clock = Date.parse('2030-01-01T00:00:00Z')
const now = (): number => clock

const demoGrant = { object_type: 'camera', object_id: 'UIN-DEMO-1/*', rights: ['view'] }
const viewer = await createToken(tokens, { owner_type: 'account', owner_id: 'acct-demo', grants: [demoGrant] })
const expiring = await createToken(tokens, {
  owner_type: 'account', owner_id: 'acct-short', grants: [demoGrant], expires_at: new Date(clock + 10_000)
})
const server = await startAuthServer(t, { tokens, now })

async function authorize (body: unknown, url = server.url): Promise<{ status: number, body: any, headers: Record<string, unknown> }> {
  const res = await request(`${url}/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body)
  })
  return { status: res.statusCode, body: await res.body.json(), headers: res.headers }
}

const viewCam1 = { rights: 'view', object_type: 'camera', object_id: 'UIN-DEMO-1/cam-1' }

t.test('200 with the owner when a grant allows', async (t) => {
  const res = await authorize({ token: viewer.token, ...viewCam1 })
  t.equal(res.status, 200)
  t.same(res.body, { owner_type: 'account', owner_id: 'acct-demo', expires_at: null })
  const short = await authorize({ token: expiring.token, ...viewCam1 })
  t.equal(short.status, 200)
  t.same(short.body, { owner_type: 'account', owner_id: 'acct-short', expires_at: '2030-01-01T00:00:10.000Z' })
})

t.test('401 GW_TOKEN_INVALID for an unknown token', async (t) => {
  const res = await authorize({ token: 'no-such-token', ...viewCam1 })
  t.equal(res.status, 401)
  t.equal(res.body.error.code, 'GW_TOKEN_INVALID')
})

t.test('401 GW_TOKEN_INVALID once the clock reaches expires_at', async (t) => {
  const start = clock
  t.teardown(() => { clock = start })
  clock = start + 9_999
  t.equal((await authorize({ token: expiring.token, ...viewCam1 })).status, 200)
  clock = start + 10_000
  const res = await authorize({ token: expiring.token, ...viewCam1 })
  t.equal(res.status, 401)
  t.equal(res.body.error.code, 'GW_TOKEN_INVALID')
  clock = start + 11_000
  t.equal((await authorize({ token: expiring.token, ...viewCam1 })).status, 401)
})

t.test('403 GW_FORBIDDEN when the token lacks the right', async (t) => {
  for (const ask of [
    { ...viewCam1, rights: 'admin' },
    { ...viewCam1, object_id: 'UIN-DEMO-10/cam-1' },
    { ...viewCam1, object_type: 'server' }
  ]) {
    const res = await authorize({ token: viewer.token, ...ask })
    t.equal(res.status, 403, JSON.stringify(ask))
    t.equal(res.body.error.code, 'GW_FORBIDDEN')
  }
})

t.test('400 GW_BAD_REQUEST for a bad body', async (t) => {
  const cases: Array<[string, unknown]> = [
    ['missing field', { token: viewer.token, rights: 'view', object_type: 'camera' }],
    ['extra field', { token: viewer.token, ...viewCam1, admin: true }],
    ['object as token', { token: { $ne: null }, ...viewCam1 }],
    ['number as token (no coercion)', { token: 12345, ...viewCam1 }],
    ['empty token', { token: '', ...viewCam1 }],
    ['token over 4096 characters', { token: 'x'.repeat(4097), ...viewCam1 }],
    ['object id over 256 characters', { token: viewer.token, ...viewCam1, object_id: 'a'.repeat(257) }],
    ['operator characters in an id', { token: viewer.token, ...viewCam1, object_id: '$where' }],
    ['an array body', [viewer.token]],
    ['not JSON', '{"token": '],
    ['empty body', '']
  ]
  for (const [name, body] of cases) {
    const res = await authorize(body)
    t.equal(res.status, 400, name)
    t.equal(res.body.error?.code, 'GW_BAD_REQUEST', name)
    t.notMatch(res.body.error?.message, viewer.token, `${name}: the message does not echo the token`)
  }
})

t.test('GET /healthz, and 404 in the registry\'s shape', async (t) => {
  const health = await request(`${server.url}/healthz`)
  t.equal(health.statusCode, 200)
  t.same(await health.body.json(), { status: 'ok' })
  const missing = await request(`${server.url}/nope`)
  t.equal(missing.statusCode, 404)
  t.equal(((await missing.body.json()) as any).error.code, 'GW_NOT_FOUND')
})

t.test('a revoked token is unknown', async (t) => {
  const { token } = await createToken(tokens, { owner_type: 'account', owner_id: 'acct-gone', grants: [demoGrant] })
  t.equal((await authorize({ token, ...viewCam1 })).status, 200)
  t.equal(await revokeToken(tokens, token), true)
  t.equal((await authorize({ token, ...viewCam1 })).status, 401)
})

t.test('a store that cannot answer is 503 GW_DEPENDENCY_DOWN, not a pass', async (t) => {
  const unreachable = new MongoClient('mongodb://127.0.0.1:1', { serverSelectionTimeoutMS: 100, connectTimeoutMS: 100 })
  t.teardown(() => unreachable.close())
  const down = await startAuthServer(t, { tokens: unreachable.db('x').collection<TokenDoc>('tokens'), now })
  const res = await authorize({ token: viewer.token, ...viewCam1 }, down.url)
  t.equal(res.status, 503)
  t.equal(res.body.error.code, 'GW_DEPENDENCY_DOWN')
  t.equal(res.headers['retry-after'], '2')
})

t.test('the token never reaches the log, even where a line holds the body', async (t) => {
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(String(chunk)); done() } })
  const logged = await startAuthServer(t, {
    tokens,
    now,
    logger: { level: 'trace', stream },
    // Stands in for any later debug line that logs the whole request.
    configure: (app) => app.addHook('preHandler', async (req) => { req.log.info({ body: req.body, headers: req.headers }, 'request body') })
  })
  const res = await request(`${logged.url}/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${viewer.token}` },
    body: JSON.stringify({ token: viewer.token, ...viewCam1 })
  })
  t.equal(res.statusCode, 200)
  await res.body.dump()
  await authorize({ token: viewer.token, ...viewCam1, extra: 1 }, logged.url)
  const log = lines.join('')
  t.match(log, /request body/, 'the body line was written')
  t.match(log, /\[redacted\]/)
  t.notMatch(log, viewer.token)
})

async function introspect (body: unknown): Promise<{ status: number, body: any }> {
  const res = await request(`${server.url}/introspect`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body)
  })
  return { status: res.statusCode, body: await res.body.json() }
}

t.test('POST /introspect: everything a token may do, or active false', async (t) => {
  t.same(await introspect({ token: viewer.token }), {
    status: 200,
    body: { active: true, owner_type: 'account', owner_id: 'acct-demo', grants: [demoGrant], exp: null, max_sessions: null }
  })
  t.same((await introspect({ token: expiring.token })).body, {
    active: true, owner_type: 'account', owner_id: 'acct-short', grants: [demoGrant], exp: Date.parse('2030-01-01T00:00:10Z') / 1000, max_sessions: null
  })
  const shared = await createToken(tokens, { owner_type: 'account', owner_id: 'acct-demo', grants: [demoGrant], max_sessions: 3 })
  t.equal((await introspect({ token: shared.token })).body.max_sessions, 3, 'a sharing limit is told')
  t.same(await introspect({ token: 'no-such-token' }), { status: 200, body: { active: false } }, 'unknown: inactive (RFC 7662), not an error')
  const start = clock
  t.teardown(() => { clock = start })
  clock = start + 10_000
  t.same((await introspect({ token: expiring.token })).body, { active: false }, 'expired: inactive')
  await tokens.insertOne({ _id: hashToken('odd-token'), owner_type: 'account', owner_id: 'acct-odd', grants: [demoGrant, { object_type: 'camera', object_id: '*', rights: 'view' }] as unknown as TokenDoc['grants'], expires_at: null })
  t.same((await introspect({ token: 'odd-token' })).body.grants, [demoGrant], 'a malformed grant allows nothing, and is not sent')
  const unrevoked = await createToken(tokens, { owner_type: 'account', owner_id: 'acct-gone', grants: [demoGrant] })
  await revokeToken(tokens, unrevoked.token)
  t.same((await introspect({ token: unrevoked.token })).body, { active: false }, 'revoked: inactive')
  t.equal((await introspect({ token: 'x'.repeat(4097) })).status, 400, 'an over-long token is a bad request')
  t.equal((await introspect({ token: 't', extra: 1 })).status, 400, 'nothing but the token')
})

async function introspectBatch (body: unknown, url = server.url): Promise<{ status: number, body: any }> {
  const res = await request(`${url}/introspect/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body)
  })
  return { status: res.statusCode, body: await res.body.json() }
}

t.test('POST /introspect/batch: one answer per token, in their order, as /introspect gives each', async (t) => {
  const listed = [viewer.token, 'no-such-token', expiring.token, viewer.token, 'odd-token']
  const res = await introspectBatch({ tokens: listed })
  t.equal(res.status, 200)
  const alone = await Promise.all(listed.map(async (token) => (await introspect({ token })).body))
  t.same(res.body, { answers: alone })
  t.same(res.body.answers.map((a: { active: boolean }) => a.active), [true, false, true, true, true])
  const start = clock
  t.teardown(() => { clock = start })
  clock = start + 10_000
  t.same((await introspectBatch({ tokens: [expiring.token, viewer.token] })).body.answers.map((a: { active: boolean }) => a.active), [false, true], 'expired: inactive')
})

t.test('POST /introspect/batch takes 64 tokens of 4096 characters, and refuses what the schema does not allow', async (t) => {
  const longest = Array.from({ length: 64 }, (_, i) => `${i}`.padEnd(4096, 'é'))
  const big = await introspectBatch({ tokens: longest })
  t.equal(big.status, 200)
  t.equal(big.body.answers.length, 64)
  const refused: Array<[unknown, string]> = [
    [{ tokens: [] }, 'no token'],
    [{ tokens: Array.from({ length: 65 }, (_, i) => `t${i}`) }, 'more than 64'],
    [{ tokens: ['x'.repeat(4097)] }, 'an over-long token'],
    [{ tokens: [''] }, 'an empty token'],
    [{ tokens: [1] }, 'not a string'],
    [{ tokens: 'abc' }, 'not a list'],
    [{ tokens: ['t'], extra: 1 }, 'nothing but the tokens'],
    ['{"tokens": [', 'not JSON']
  ]
  for (const [body, why] of refused) {
    const res = await introspectBatch(body)
    t.equal(res.status, 400, why)
    t.equal(res.body.error?.code, 'GW_BAD_REQUEST', why)
  }
})

t.test('POST /introspect/batch: a store that cannot answer is 503 for the whole batch', async (t) => {
  const unreachable = new MongoClient('mongodb://127.0.0.1:1', { serverSelectionTimeoutMS: 100, connectTimeoutMS: 100 })
  t.teardown(() => unreachable.close())
  const down = await startAuthServer(t, { tokens: unreachable.db('x').collection<TokenDoc>('tokens'), now })
  const res = await introspectBatch({ tokens: [viewer.token, 'other'] }, down.url)
  t.equal(res.status, 503)
  t.equal(res.body.error.code, 'GW_DEPENDENCY_DOWN')
})
