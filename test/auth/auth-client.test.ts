import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import type { Test } from 'tap'
import { createAuthClient, DENIAL_BYTES, type AuthClientOptions } from '../../src/auth/auth-client.js'
import { createToken, revokeToken } from '../../src/auth/token-admin.js'
import { hashToken } from '../../src/auth/token-hash.js'
import { GatewayError } from '../../src/errors.js'
import { startTestStore } from '../helpers/store.js'
import { startAuthServer } from './auth-server-fixture.js'

const store = await startTestStore(t)
const tokens = store.collections.tokens
let clock = Date.parse('2030-01-01T00:00:00Z')
const now = (): number => clock

const demoGrant = { object_type: 'camera', object_id: 'UIN-DEMO-1/*', rights: ['view'] }
const camera = (id: string) => ({ rights: 'view', object_type: 'camera', object_id: `UIN-DEMO-1/${id}` })
const cam1 = camera('cam-1')
const otherServer = { rights: 'view', object_type: 'camera', object_id: 'UIN-DEMO-2/cam-1' }

function newToken (ownerId: string, expiresInMs?: number): Promise<string> {
  return createToken(tokens, {
    owner_type: 'account',
    owner_id: ownerId,
    grants: [demoGrant],
    expires_at: expiresInMs === undefined ? null : new Date(clock + expiresInMs)
  }).then(({ token }) => token)
}

function client (t: Test, options: Partial<AuthClientOptions> & { url: string }) {
  // A cold auth-server on a machine running other test files can take seconds to answer its
  // first call: these tests are about caching and answers; the deadline tests set their own.
  const auth = createAuthClient({ cacheMax: 1000, now, timeoutMs: 10_000, ...options })
  t.teardown(() => auth.close())
  return auth
}

async function codeOf (promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'allowed'
  } catch (err) {
    return err instanceof GatewayError ? err.code : `not a GatewayError: ${String(err)}`
  }
}

async function until (condition: () => boolean): Promise<void> {
  for (let waited = 0; waited < 5000 && !condition(); waited += 5) await new Promise((resolve) => setTimeout(resolve, 5))
}

t.test('a token\'s rights are learned once and decide every camera', async (t) => {
  const server = await startAuthServer(t, { tokens, now })
  const auth = client(t, { url: server.url })
  const token = await newToken('acct-cache')
  // With the token's id, its digest as the tokens collection keys it: what a grant names.
  const principal = { owner_type: 'account', owner_id: 'acct-cache', expires_at: null, token_id: hashToken(token) }
  t.equal(auth.peek(token, cam1), undefined)
  t.same(await auth.authorize(token, cam1), principal)
  t.equal(server.calls, 1)
  for (let i = 0; i < 100; i++) t.same(auth.peek(token, camera(`cam-${i}`)), { value: principal })
  t.equal(await codeOf(auth.authorize(token, otherServer)), 'GW_FORBIDDEN', 'a camera no grant covers')
  t.equal(await codeOf(auth.authorize(token, { ...cam1, rights: 'admin' })), 'GW_FORBIDDEN', 'a right no grant gives')
  t.equal(server.calls, 1, 'all decided from the one answer')
  clock += 60_001
  t.equal(auth.peek(token, cam1), undefined, 'gone after maxGrantTtlMs')
  await auth.authorize(token, camera('cam-2'))
  t.equal(server.calls, 2)
})

t.test('1,000 concurrent calls for 100 cameras with one new token make one request', async (t) => {
  const server = await startAuthServer(t, { tokens, now })
  const auth = client(t, { url: server.url })
  const token = await newToken('acct-burst')
  const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => codeOf(auth.authorize(token, i % 10 === 9 ? otherServer : camera(`cam-${i % 100}`)))))
  t.equal(server.calls, 1)
  t.equal(answers.filter((a) => a === 'allowed').length, 900)
  t.equal(answers.filter((a) => a === 'GW_FORBIDDEN').length, 100)
})

t.test('cached rights never outlive their token', async (t) => {
  const server = await startAuthServer(t, { tokens, now })
  const auth = client(t, { url: server.url, maxGrantTtlMs: 60_000 })
  const start = clock
  const token = await newToken('acct-short', 10_000)
  const principal = await auth.authorize(token, cam1)
  t.equal(principal.expires_at, Math.floor((start + 10_000) / 1000) * 1000, 'to the second (RFC 7662 exp), rounded down')
  clock = start + 9_000
  await auth.authorize(token, cam1)
  t.equal(server.calls, 1, 'still cached before expiry')
  clock = start + 11_000
  t.equal(auth.peek(token, cam1), undefined)
  t.equal(await codeOf(auth.authorize(token, cam1)), 'GW_TOKEN_INVALID')
  t.equal(server.calls, 2, 'asked again once the token had expired')
})

t.test('rights used late in their life are reloaded in the background by peek, as the hot path uses it', async (t) => {
  const server = await startAuthServer(t, { tokens, now })
  const auth = client(t, { url: server.url, maxGrantTtlMs: 60_000 })
  const start = clock
  const token = await newToken('acct-refresh')
  const principal = await auth.authorize(token, cam1)
  clock = start + 50_000
  t.same(auth.peek(token, cam1), { value: principal }, 'the cached rights answer at once…')
  t.same(auth.peek(token, camera('cam-2')), { value: principal })
  // The reload's answer is sent, and then read by the client on a later turn.
  await until(() => server.answered >= 2)
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(server.calls, 2, '…and one reload went out, for both peeks')
  clock = start + 61_000
  t.same(auth.peek(token, cam1), { value: principal }, 'past the first answer\'s life, the reloaded one answers')
  t.equal(server.calls, 2)
})

t.test('a revoked token is refused once its rights are due again, within maxGrantTtlMs', async (t) => {
  const server = await startAuthServer(t, { tokens, now })
  const auth = client(t, { url: server.url, maxGrantTtlMs: 10_000 })
  const token = await newToken('acct-revoked')
  await auth.authorize(token, cam1)
  t.ok(await revokeToken(tokens, token))
  clock += 8_000
  t.ok(auth.peek(token, cam1), 'cached a while yet; this use reloads it…')
  await until(() => server.calls >= 2)
  await until(() => { const hit = auth.peek(token, cam1); return hit !== undefined && 'error' in hit })
  t.equal(await codeOf(auth.authorize(token, cam1)), 'GW_TOKEN_INVALID', '…and the reload found it revoked')
  const idle = await newToken('acct-revoked-idle')
  await auth.authorize(idle, cam1)
  await revokeToken(tokens, idle)
  clock += 10_001
  t.equal(await codeOf(auth.authorize(idle, cam1)), 'GW_TOKEN_INVALID', 'a token not used meanwhile is asked about again')
})

t.test('an unknown token is remembered for denyTtlMs by its digest, then asked about again', async (t) => {
  const server = await startAuthServer(t, { tokens, now })
  const auth = client(t, { url: server.url, denyTtlMs: 5000 })
  t.equal(await codeOf(auth.authorize('unknown-token', cam1)), 'GW_TOKEN_INVALID')
  t.equal(await codeOf(auth.authorize('unknown-token', camera('cam-2'))), 'GW_TOKEN_INVALID')
  t.equal(server.calls, 1)
  const peeked = auth.peek('unknown-token', cam1)
  t.ok(peeked !== undefined && 'error' in peeked && peeked.error instanceof GatewayError && peeked.error.code === 'GW_TOKEN_INVALID', 'peek answers the denial')
  t.same(auth.denials, { count: 1, bytes: DENIAL_BYTES })
  clock += 5001
  t.equal(await codeOf(auth.authorize('unknown-token', cam1)), 'GW_TOKEN_INVALID')
  t.equal(server.calls, 2)
})

t.test('remembered denials are capped in bytes and purged when they expire', async (t) => {
  const server = await startAuthServer(t, { tokens, now })
  // The denials' lifetime runs on the moved clock; only the sweep's pace is the real one.
  const auth = createAuthClient({ url: server.url, cacheMax: 1000, denyTtlMs: 150, denyCacheBytes: 10 * DENIAL_BYTES, now })
  t.teardown(() => auth.close())
  for (let i = 0; i < 50; i++) t.equal(await codeOf(auth.authorize(`stranger-${i}-${'x'.repeat(4000)}`, cam1)), 'GW_TOKEN_INVALID')
  t.same(auth.denials, { count: 10, bytes: 10 * DENIAL_BYTES }, 'the newest ten, in their bytes')
  clock += 151
  await until(() => auth.denials.count === 0)
  t.same(auth.denials, { count: 0, bytes: 0 }, 'gone once expired, without being looked up')
})

t.test('auth-server gone: cached rights still answer, an unknown token is GW_DEPENDENCY_DOWN', async (t) => {
  const server = await startAuthServer(t, { tokens, now })
  const auth = client(t, { url: server.url })
  const cached = await newToken('acct-cached')
  const fresh = await newToken('acct-fresh')
  await auth.authorize(cached, cam1)
  await server.app.close()
  t.equal((await auth.authorize(cached, camera('cam-7'))).owner_id, 'acct-cached')
  t.equal(await codeOf(auth.authorize(fresh, cam1)), 'GW_DEPENDENCY_DOWN')
  t.equal(auth.peek(fresh, cam1), undefined, 'the failure is not cached')
})

t.test('stale-if-error: while the auth-server fails, rights learned within staleIfErrorMs keep answering', async (t) => {
  let failing = false
  const server = await startAuthServer(t, {
    tokens,
    now,
    configure: (app) => app.addHook('onRequest', async (_request, reply) => {
      if (failing) return reply.code(503).send({ error: { code: 'GW_DEPENDENCY_DOWN', message: 'its store is down' } })
    })
  })
  const auth = client(t, { url: server.url, maxGrantTtlMs: 60_000, staleIfErrorMs: 3_600_000, breaker: { failureThreshold: 1000, cooldownMs: 1000 } })
  const start = clock
  const seen = await newToken('acct-seen')
  const unseen = await newToken('acct-unseen')
  await auth.authorize(seen, cam1)
  failing = true
  clock = start + 30 * 60_000
  t.equal((await auth.authorize(seen, camera('cam-3'))).owner_id, 'acct-seen', 'half an hour on: the last known rights answer')
  t.same(auth.peek(seen, cam1), { value: { owner_type: 'account', owner_id: 'acct-seen', expires_at: null, token_id: hashToken(seen) } }, 'and from peek at once, reloading behind')
  t.equal(await codeOf(auth.authorize(seen, otherServer)), 'GW_FORBIDDEN', 'still only what the grants allow')
  t.equal(await codeOf(auth.authorize(unseen, cam1)), 'GW_DEPENDENCY_DOWN', 'a token never seen is a 503')
  clock = start + 3_600_001
  t.equal(await codeOf(auth.authorize(seen, cam1)), 'GW_DEPENDENCY_DOWN', 'an hour on, no more')
  failing = false
  t.equal((await auth.authorize(seen, cam1)).owner_id, 'acct-seen', 'fresh again once the auth-server answers')
  await revokeToken(tokens, seen)
  clock += 60_001
  failing = true
  t.equal((await auth.authorize(seen, cam1)).owner_id, 'acct-seen', 'the revocation is not known while it cannot answer…')
  failing = false
  clock += 1
  await until(() => { const hit = auth.peek(seen, cam1); return hit !== undefined && 'error' in hit })
  t.equal(await codeOf(auth.authorize(seen, cam1)), 'GW_TOKEN_INVALID', '…and applies at its first answer')
})

t.test('a black-holed auth-server: the first new tokens time out, then the open breaker refuses at once; it closes by itself', async (t) => {
  const received: string[] = []
  let answering = false
  const url = await startRawServer(t, (req, res) => {
    readBody(req, (body) => {
      received.push(body)
      if (answering) grant(res)
    })
  })
  const auth = client(t, { url, timeoutMs: 100, breaker: { failureThreshold: 3, cooldownMs: 5000 } })
  answering = true
  await auth.authorize('cached-token', cam1)
  answering = false
  t.equal(received.length, 1)
  for (let i = 0; i < 3; i++) t.equal(await codeOf(auth.authorize(`new-token-${i}`, cam1)), 'GW_DEPENDENCY_DOWN', `new token ${i}: timed out`)
  await until(() => received.length >= 4)
  t.equal(received.length, 4, 'three calls reached the black hole')
  t.equal(auth.breakerState, 'open')
  for (let i = 3; i < 20; i++) t.equal(await codeOf(auth.authorize(`new-token-${i}`, cam1)), 'GW_DEPENDENCY_DOWN', `new token ${i}: refused`)
  t.equal((await auth.authorize('cached-token', camera('cam-9'))).owner_id, 'b', 'cached rights keep working')
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(received.length, 4, 'nothing more was sent while the breaker was open')
  answering = true
  clock += 5001
  t.equal((await auth.authorize('new-token-20', cam1)).owner_id, 'b', 'after the cooldown a probe goes through and is answered')
  t.equal(auth.breakerState, 'closed')
  t.equal((await auth.authorize('new-token-21', cam1)).owner_id, 'b')
})

/** An auth-server that grants every token view on UIN-DEMO-1's cameras. */
function grant (res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' })
    .end(JSON.stringify({ active: true, owner_type: 'a', owner_id: 'b', grants: [demoGrant], exp: null }))
}

function readBody (req: IncomingMessage, done: (body: string) => void): void {
  let body = ''
  req.on('data', (chunk) => { body += chunk })
  req.on('end', () => done(body))
}

async function startRawServer (t: Test, handler: Parameters<typeof createServer>[1]): Promise<string> {
  const raw: Server = createServer(handler)
  await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { raw.closeAllConnections(); raw.close(() => resolve()) }))
  return `http://127.0.0.1:${(raw.address() as AddressInfo).port}`
}

t.test('a 5xx is GW_DEPENDENCY_DOWN, not cached: the next call asks again', async (t) => {
  let failNext = true
  const server = await startAuthServer(t, {
    tokens,
    now,
    configure: (app) => app.addHook('onRequest', async (_request, reply) => {
      if (failNext) {
        failNext = false
        return reply.code(500).send({ error: { code: 'GW_INTERNAL', message: 'chosen failure' } })
      }
    })
  })
  const auth = client(t, { url: server.url })
  const token = await newToken('acct-retry')
  t.equal(await codeOf(auth.authorize(token, cam1)), 'GW_DEPENDENCY_DOWN')
  t.equal((await auth.authorize(token, cam1)).owner_id, 'acct-retry')
  t.equal(server.calls, 2)
})

t.test('a malformed answer is GW_DEPENDENCY_DOWN, never a pass', async (t) => {
  const answers = [
    '{"active":true,"owner_type":"account","owner_id":5,"grants":[],"exp":null}',
    'not json',
    '{"active":true,"owner_type":"a","owner_id":"b","grants":[],"exp":"soon"}',
    '{"active":true,"owner_type":"a","owner_id":"b","grants":"all","exp":null}',
    '{"active":true,"owner_type":"a","owner_id":"b","grants":[{"object_type":"camera","object_id":"*","rights":"view"}],"exp":null}',
    '{"active":"yes"}',
    'null'
  ]
  let i = 0
  const url = await startRawServer(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(answers[i++])
  })
  const auth = client(t, { url })
  for (const answer of answers) {
    t.equal(await codeOf(auth.authorize('any-token', cam1)), 'GW_DEPENDENCY_DOWN', answer)
  }
})

t.test('a token the auth-server reports expired is refused', async (t) => {
  const url = await startRawServer(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ active: true, owner_type: 'a', owner_id: 'b', grants: [demoGrant], exp: Math.floor(clock / 1000) - 1 }))
  })
  const auth = client(t, { url })
  t.equal(await codeOf(auth.authorize('any-token', cam1)), 'GW_TOKEN_INVALID')
})

t.test('a 400 from the auth-server is GW_BAD_REQUEST', async (t) => {
  const server = await startAuthServer(t, { tokens, now })
  const auth = client(t, { url: server.url })
  t.equal(await codeOf(auth.authorize('x'.repeat(5000), cam1)), 'GW_BAD_REQUEST')
})

t.test('nothing listening is GW_DEPENDENCY_DOWN', async (t) => {
  const url = await startRawServer(t, () => {})
  const closed = createAuthClient({ url, cacheMax: 10 })
  await closed.close()
  t.equal(await codeOf(closed.authorize('any-token', cam1)), 'GW_DEPENDENCY_DOWN', 'a closed client')
  const refused = client(t, { url: 'http://127.0.0.1:1' })
  t.equal(await codeOf(refused.authorize('any-token', cam1)), 'GW_DEPENDENCY_DOWN', 'connection refused')
})

t.test('the auth-server may live under a path prefix; the body is exactly the contract', async (t) => {
  const seen: Array<{ line: string, contentType: string | undefined, body: string }> = []
  const url = await startRawServer(t, (req, res) => {
    readBody(req, (body) => {
      seen.push({ line: `${req.method ?? ''} ${req.url ?? ''}`, contentType: req.headers['content-type'], body })
      grant(res)
    })
  })
  const auth = client(t, { url: `${url}/auth/` })
  await auth.authorize('line one\nline two\n', cam1)
  t.same(seen, [{ line: 'POST /auth/introspect', contentType: 'application/json', body: JSON.stringify({ token: 'line one\nline two\n' }) }])
})

t.test('bad options are refused', async (t) => {
  t.throws(() => createAuthClient({ url: 'not a url', cacheMax: 10 }), TypeError)
  t.throws(() => createAuthClient({ url: 'ftp://x', cacheMax: 10 }), TypeError)
  t.throws(() => createAuthClient({ url: 'http://x', cacheMax: 0 }), TypeError)
  t.throws(() => createAuthClient({ url: 'http://x', cacheMax: 10, timeoutMs: 0 }), TypeError)
  t.throws(() => createAuthClient({ url: 'http://x', cacheMax: 10, denyTtlMs: -1 }), TypeError)
  t.throws(() => createAuthClient({ url: 'http://x', cacheMax: 10, denyCacheBytes: 1 }), TypeError)
  t.throws(() => createAuthClient({ url: 'http://x', cacheMax: 10, staleIfErrorMs: -1 }), TypeError)
})

t.test('new tokens asked within one turn share one call (POST /introspect/batch), each decided as alone', async (t) => {
  const server = await startAuthServer(t, { tokens, now })
  const auth = client(t, { url: server.url })
  const viewers = await Promise.all(Array.from({ length: 100 }, (_, i) => newToken(`acct-batch-${i}`)))
  const asked = viewers.map((token, i) => (i % 10 === 3 ? `unknown-${i}` : token))
  const answers = await Promise.all(asked.map((token, i) => codeOf(auth.authorize(token, i % 10 === 7 ? otherServer : cam1))))
  t.equal(server.batchCalls, 2, '100 tokens: two calls of at most 64')
  t.equal(server.calls, 2)
  t.same(answers.filter((a) => a === 'GW_TOKEN_INVALID').length, 10, 'each unknown token is refused')
  t.same(answers.filter((a) => a === 'GW_FORBIDDEN').length, 10, 'each camera outside its grants is refused')
  t.same(answers.filter((a) => a === 'allowed').length, 80)
  t.equal((await auth.authorize(viewers[0] as string, camera('cam-9'))).owner_id, 'acct-batch-0', 'cached from the batch')
  t.equal(server.calls, 2)
})

t.test('a token the auth-server finds malformed does not fail the others of its batch', async (t) => {
  const server = await startAuthServer(t, { tokens, now })
  const auth = client(t, { url: server.url })
  const good = await newToken('acct-batch-good')
  const answers = await Promise.all([codeOf(auth.authorize('x'.repeat(5000), cam1)), codeOf(auth.authorize(good, cam1))])
  t.same(answers, ['GW_BAD_REQUEST', 'allowed'])
  t.equal(server.batchCalls, 1, 'the batch was refused as a whole…')
  t.equal(server.calls, 3, '…and each token asked again alone')
})

t.test('a failed batch: each new token is GW_DEPENDENCY_DOWN, and the breaker counts one failure', async (t) => {
  const server = await startAuthServer(t, {
    tokens,
    now,
    configure: (app) => app.addHook('onRequest', async (_request, reply) => reply.code(503).send({ error: { code: 'GW_DEPENDENCY_DOWN', message: 'its store is down' } }))
  })
  const auth = client(t, { url: server.url, breaker: { failureThreshold: 2, cooldownMs: 5000 } })
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => codeOf(auth.authorize(`new-${i}`, cam1))))
  t.ok(answers.every((a) => a === 'GW_DEPENDENCY_DOWN'))
  t.equal(server.batchCalls, 1)
  t.equal(auth.breakerState, 'closed', 'one failed call, not ten')
})

t.test('stale-if-error never answers past the token\'s expiry', async (t) => {
  const start = clock
  const exp = Math.floor((start + 90_000) / 1000)
  let failing = false
  const url = await startRawServer(t, (_req, res) => {
    if (failing) res.writeHead(503).end()
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ active: true, owner_type: 'a', owner_id: 'expiring', grants: [demoGrant], exp }))
  })
  const auth = client(t, { url, maxGrantTtlMs: 60_000, staleIfErrorMs: 3_600_000 })
  await auth.authorize('expiring-token', cam1)
  failing = true
  clock = start + 61_000
  t.equal((await auth.authorize('expiring-token', cam1)).owner_id, 'expiring', 'past its TTL, the last known rights answer')
  clock = exp * 1000
  t.equal(auth.peek('expiring-token', cam1), undefined, 'not once the token has expired')
  t.equal(await codeOf(auth.authorize('expiring-token', cam1)), 'GW_DEPENDENCY_DOWN')
})

t.test('with denials not remembered (denyTtlMs 0), a reload that finds the token revoked still ends its rights at once', async (t) => {
  const server = await startAuthServer(t, { tokens, now })
  const auth = client(t, { url: server.url, maxGrantTtlMs: 10_000, denyTtlMs: 0 })
  const token = await newToken('acct-revoked-unremembered')
  await auth.authorize(token, cam1)
  await revokeToken(tokens, token)
  clock += 8_000
  t.ok(auth.peek(token, cam1), 'cached a while yet; this use reloads it…')
  await until(() => server.calls >= 2)
  await until(() => auth.peek(token, cam1) === undefined)
  t.equal(auth.peek(token, cam1), undefined, '…and the denial ended the rights')
  t.same(auth.denials, { count: 0, bytes: 0 }, 'without remembering it')
  t.equal(await codeOf(auth.authorize(token, cam1)), 'GW_TOKEN_INVALID')
  t.equal(server.calls, 3, 'asked again, as nothing is remembered')
})
