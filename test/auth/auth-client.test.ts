import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import type { Test } from 'tap'
import { createAuthClient, type AuthClientOptions } from '../../src/auth/auth-client.js'
import { createToken } from '../../src/auth/token-admin.js'
import { GatewayError } from '../../src/errors.js'
import { startTestStore } from '../helpers/store.js'
import { startAuthServer } from './auth-server-fixture.js'

const store = await startTestStore(t)
const tokens = store.collections.tokens
let clock = Date.parse('2030-01-01T00:00:00Z')
const now = (): number => clock

const demoGrant = { object_type: 'camera', object_id: 'UIN-DEMO-1/*', rights: ['view'] }
const cam1 = { rights: 'view', object_type: 'camera', object_id: 'UIN-DEMO-1/cam-1' }
const cam2 = { rights: 'view', object_type: 'camera', object_id: 'UIN-DEMO-1/cam-2' }

function newToken (ownerId: string, expiresInMs?: number): Promise<string> {
  return createToken(tokens, {
    owner_type: 'account',
    owner_id: ownerId,
    grants: [demoGrant],
    expires_at: expiresInMs === undefined ? null : new Date(clock + expiresInMs)
  }).then(({ token }) => token)
}

function client (t: Test, options: Partial<AuthClientOptions> & { url: string }) {
  const auth = createAuthClient({ cacheMax: 1000, now, timeoutMs: 2000, ...options })
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

t.test('a grant is cached: the second call makes no request', async (t) => {
  const server = await startAuthServer(t, { tokens, now })
  const auth = client(t, { url: server.url })
  const token = await newToken('acct-cache')
  t.equal(auth.peek(token, cam1), undefined)
  t.same(await auth.authorize(token, cam1), { owner_type: 'account', owner_id: 'acct-cache', expires_at: null })
  t.equal(server.authorizeCalls, 1)
  t.same(await auth.authorize(token, cam1), { owner_type: 'account', owner_id: 'acct-cache', expires_at: null })
  t.equal(server.authorizeCalls, 1)
  t.same(auth.peek(token, cam1), { value: { owner_type: 'account', owner_id: 'acct-cache', expires_at: null } })
  t.equal(auth.peek(token, cam2), undefined, 'another object is another question')
  await auth.authorize(token, cam2)
  t.equal(server.authorizeCalls, 2)
  clock += 60_001
  t.equal(auth.peek(token, cam1), undefined, 'gone after maxGrantTtlMs')
  await auth.authorize(token, cam1)
  t.equal(server.authorizeCalls, 3)
})

t.test('a cached grant never outlives its token', async (t) => {
  const server = await startAuthServer(t, { tokens, now })
  const auth = client(t, { url: server.url, maxGrantTtlMs: 60_000 })
  const start = clock
  const token = await newToken('acct-short', 10_000)
  const principal = await auth.authorize(token, cam1)
  t.equal(principal.expires_at, start + 10_000)
  clock = start + 9_000
  await auth.authorize(token, cam1)
  t.equal(server.authorizeCalls, 1, 'still cached before expiry')
  clock = start + 11_000
  t.equal(auth.peek(token, cam1), undefined)
  t.equal(await codeOf(auth.authorize(token, cam1)), 'GW_TOKEN_INVALID')
  t.equal(server.authorizeCalls, 2, 'asked again once the token had expired')
})

t.test('a grant used late in its life is reloaded in the background by peek, as the hot path uses it', async (t) => {
  const server = await startAuthServer(t, { tokens, now })
  const auth = client(t, { url: server.url, maxGrantTtlMs: 60_000 })
  const start = clock
  const token = await newToken('acct-refresh')
  const principal = await auth.authorize(token, cam1)
  clock = start + 50_000
  t.same(auth.peek(token, cam1), { value: principal }, 'the cached grant answers at once…')
  t.same(auth.peek(token, cam1), { value: principal })
  for (let waited = 0; waited < 2000 && server.authorizeCalls < 2; waited += 5) await new Promise((resolve) => setTimeout(resolve, 5))
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(server.authorizeCalls, 2, '…and one reload went out, for both peeks')
  clock = start + 61_000
  t.same(auth.peek(token, cam1), { value: principal }, 'past the first grant\'s life, the reloaded grant answers')
  t.equal(server.authorizeCalls, 2)
})

t.test('a token is asked about as it is, newlines and all; a request field with one is refused', async (t) => {
  const { url, requests } = await startGrantingServer(t)
  const auth = client(t, { url })
  await auth.authorize('line one\nline two\n', cam1)
  t.same(requests.map(({ body }) => JSON.parse(body) as unknown), [{ token: 'line one\nline two\n', ...cam1 }])
  const bad = { ...cam1, object_id: 'UIN-DEMO-1/cam-1\nview' }
  t.equal(await codeOf(auth.authorize('t', bad)), 'GW_BAD_REQUEST')
  t.throws(() => auth.peek('t', bad), { code: 'GW_BAD_REQUEST' })
  t.equal(requests.length, 1, 'nothing more was asked')
})

t.test('a denial is cached for denyTtlMs, then asked again', async (t) => {
  const server = await startAuthServer(t, { tokens, now })
  const auth = client(t, { url: server.url, denyTtlMs: 5000 })
  const token = await newToken('acct-deny')
  const admin = { rights: 'admin', object_type: 'camera', object_id: 'UIN-DEMO-1/cam-1' }
  t.equal(await codeOf(auth.authorize(token, admin)), 'GW_FORBIDDEN')
  t.equal(await codeOf(auth.authorize(token, admin)), 'GW_FORBIDDEN')
  t.equal(server.authorizeCalls, 1)
  const peeked = auth.peek(token, admin)
  t.ok(peeked !== undefined && 'error' in peeked && peeked.error instanceof GatewayError && peeked.error.code === 'GW_FORBIDDEN', 'peek answers the denial')
  t.equal(await codeOf(auth.authorize('unknown-token', cam1)), 'GW_TOKEN_INVALID')
  t.equal(await codeOf(auth.authorize('unknown-token', cam1)), 'GW_TOKEN_INVALID')
  t.equal(server.authorizeCalls, 2)
  clock += 5001
  t.equal(await codeOf(auth.authorize(token, admin)), 'GW_FORBIDDEN')
  t.equal(await codeOf(auth.authorize('unknown-token', cam1)), 'GW_TOKEN_INVALID')
  t.equal(server.authorizeCalls, 4)
})

t.test('500 concurrent calls with one new token make one request', async (t) => {
  const server = await startAuthServer(t, { tokens, now })
  const auth = client(t, { url: server.url })
  const token = await newToken('acct-burst')
  const answers = await Promise.all(Array.from({ length: 500 }, () => auth.authorize(token, cam1)))
  t.equal(server.authorizeCalls, 1)
  t.ok(answers.every((a) => a.owner_id === 'acct-burst'))
})

t.test('auth-server gone: a cached grant still answers, an uncached token is GW_DEPENDENCY_DOWN', async (t) => {
  const server = await startAuthServer(t, { tokens, now })
  const auth = client(t, { url: server.url })
  const cached = await newToken('acct-cached')
  const fresh = await newToken('acct-fresh')
  await auth.authorize(cached, cam1)
  await server.app.close()
  t.equal((await auth.authorize(cached, cam1)).owner_id, 'acct-cached')
  t.equal(await codeOf(auth.authorize(fresh, cam1)), 'GW_DEPENDENCY_DOWN')
  t.equal(auth.peek(fresh, cam1), undefined, 'the failure is not cached')
})

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
  t.equal(server.authorizeCalls, 2)
})

/** An auth-server that grants every request, and keeps each one's content type and body. */
async function startGrantingServer (t: Test): Promise<{ url: string, requests: Array<{ contentType: string | undefined, body: string }> }> {
  const requests: Array<{ contentType: string | undefined, body: string }> = []
  const url = await startRawServer(t, (req, res) => {
    let body = ''
    req.on('data', (chunk) => { body += chunk })
    req.on('end', () => {
      requests.push({ contentType: req.headers['content-type'], body })
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"owner_type":"a","owner_id":"b","expires_at":null}')
    })
  })
  return { url, requests }
}

async function startRawServer (t: Test, handler: Parameters<typeof createServer>[1]): Promise<string> {
  const raw: Server = createServer(handler)
  await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { raw.closeAllConnections(); raw.close(() => resolve()) }))
  return `http://127.0.0.1:${(raw.address() as AddressInfo).port}`
}

t.test('a malformed answer is GW_DEPENDENCY_DOWN, never a pass', async (t) => {
  const answers = ['{"owner_type":"account","owner_id":5,"expires_at":null}', 'not json', '{"owner_type":"a","owner_id":"b","expires_at":"soon"}', 'null']
  let i = 0
  const url = await startRawServer(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(answers[i++])
  })
  const auth = client(t, { url })
  for (const answer of answers) {
    t.equal(await codeOf(auth.authorize('any-token', cam1)), 'GW_DEPENDENCY_DOWN', answer)
  }
})

t.test('a 400 from the auth-server is GW_BAD_REQUEST', async (t) => {
  const server = await startAuthServer(t, { tokens, now })
  const auth = client(t, { url: server.url })
  t.equal(await codeOf(auth.authorize('any-token', { ...cam1, object_id: 'bad id with spaces' })), 'GW_BAD_REQUEST')
})

t.test('a server that never answers is GW_DEPENDENCY_DOWN after the timeout', async (t) => {
  const url = await startRawServer(t, () => { /* never answers */ })
  const auth = client(t, { url, timeoutMs: 100 })
  t.equal(await codeOf(auth.authorize('any-token', cam1)), 'GW_DEPENDENCY_DOWN')
  t.equal(await codeOf(auth.authorize('any-token', cam1)), 'GW_DEPENDENCY_DOWN', 'and again: nothing cached')
})

t.test('nothing listening is GW_DEPENDENCY_DOWN', async (t) => {
  const url = await startRawServer(t, () => {})
  const closed = createAuthClient({ url, cacheMax: 10 })
  await closed.close()
  t.equal(await codeOf(closed.authorize('any-token', cam1)), 'GW_DEPENDENCY_DOWN', 'a closed client')
  const refused = client(t, { url: 'http://127.0.0.1:1' })
  t.equal(await codeOf(refused.authorize('any-token', cam1)), 'GW_DEPENDENCY_DOWN', 'connection refused')
})

t.test('the auth-server may live under a path prefix', async (t) => {
  const seen: string[] = []
  const url = await startRawServer(t, (req, res) => {
    seen.push(`${req.method} ${req.url}`)
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"owner_type":"a","owner_id":"b","expires_at":null}')
  })
  const auth = client(t, { url: `${url}/auth/` })
  await auth.authorize('any-token', cam1)
  t.same(seen, ['POST /auth/authorize'])
})

t.test('the request body is exactly the contract', async (t) => {
  const { url, requests } = await startGrantingServer(t)
  const auth = client(t, { url })
  await auth.authorize('some-token', { ...cam1, extra: 'dropped' } as typeof cam1)
  t.same(requests, [{ contentType: 'application/json', body: JSON.stringify({ token: 'some-token', ...cam1 }) }])
})

t.test('bad options are refused', async (t) => {
  t.throws(() => createAuthClient({ url: 'not a url', cacheMax: 10 }), TypeError)
  t.throws(() => createAuthClient({ url: 'ftp://x', cacheMax: 10 }), TypeError)
  t.throws(() => createAuthClient({ url: 'http://x', cacheMax: 0 }), TypeError)
  t.throws(() => createAuthClient({ url: 'http://x', cacheMax: 10, timeoutMs: 0 }), TypeError)
  t.throws(() => createAuthClient({ url: 'http://x', cacheMax: 10, denyTtlMs: -1 }), TypeError)
})
