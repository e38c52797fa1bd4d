// The one upstream client against real HTTP servers on port 0 that answer, fail, stall or stay
// silent as each test chooses: what a call sends, how each way of failing is reported (one
// UpstreamError, a code per way), and what the breaker counts.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { createUpstreamClient, type UpstreamClientOptions } from '../../src/upstream/upstream-client.js'
import { UpstreamError, dependencyDown } from '../../src/upstream/upstream-error.js'
import { GatewayError } from '../../src/errors.js'

interface Seen { method: string, url: string, headers: IncomingMessage['headers'], body: string }

async function startServer (t: Test, handle: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ url: string, seen: Seen[] }> {
  const seen: Seen[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => { body += chunk })
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
      handle(req, res, body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

function client (t: Test, options: Partial<UpstreamClientOptions> & { url: string }): ReturnType<typeof createUpstreamClient> {
  const upstream = createUpstreamClient({ name: 'test-upstream', timeoutMs: 2000, connections: 4, breaker: { failureThreshold: 3, cooldownMs: 1000 }, ...options })
  t.teardown(() => upstream.close())
  return upstream
}

const readJson = async (answer: { statusCode: number, json: () => Promise<unknown>, unexpectedStatus: () => Promise<UpstreamError> }): Promise<unknown> => {
  if (answer.statusCode !== 200) throw await answer.unexpectedStatus()
  return await answer.json()
}

async function failureOf (promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise
  } catch (err) {
    if (err instanceof UpstreamError) return err
    throw new Error(`not an UpstreamError: ${String(err)}`)
  }
  throw new Error('no failure')
}

t.test('a call goes to the base URL\'s path, signed, with its JSON body, and read turns the answer into the value', async (t) => {
  const server = await startServer(t, (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'))
  const signed: unknown[] = []
  const upstream = client(t, {
    url: `${server.url}/prefix/`,
    sign: (method, path, body) => {
      signed.push([method, path, body])
      return { 'x-test-signature': 'sig' }
    }
  })
  t.same(await upstream.call({ method: 'POST', path: '/things?x=1', json: '{"a":1}' }, readJson), { ok: true })
  t.same(await upstream.call({ method: 'GET', path: '/thing' }, readJson), { ok: true })
  t.match(server.seen, [
    { method: 'POST', url: '/prefix/things?x=1', body: '{"a":1}', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-test-signature': 'sig' } },
    { method: 'GET', url: '/prefix/thing', body: '', headers: { accept: 'application/json', 'x-test-signature': 'sig' } }
  ])
  t.equal(server.seen[1]?.headers['content-type'], undefined, 'no body, no content type')
  t.same(signed, [['POST', '/prefix/things?x=1', '{"a":1}'], ['GET', '/prefix/thing', undefined]], 'what is signed is what is sent')
})

t.test('each way of failing has its code, the upstream\'s name, and the status where there is one', async (t) => {
  let mode = 'ok'
  const server = await startServer(t, (_req, res) => {
    if (mode === '503') res.writeHead(503).end('busy')
    else if (mode === 'signature') res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"code":"GW_SERVICE_UNAUTHORIZED","message":"no"}}')
    else if (mode === '401') res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"code":"GW_TOKEN_INVALID","message":"no"}}')
    else if (mode === 'not json') res.writeHead(200).end('<html>')
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"shape":"odd"}')
  })
  const upstream = client(t, { url: server.url, breaker: { failureThreshold: 100, cooldownMs: 1000 } })
  const get = (read: Parameters<typeof upstream.call>[1]) => failureOf(upstream.call({ method: 'GET', path: '/' }, read))

  mode = '503'
  t.match(await get(readJson), { code: 'UPSTREAM_STATUS', upstream: 'test-upstream', status: 503, message: 'test-upstream answered 503' })
  mode = 'signature'
  t.match(await get(readJson), { code: 'UPSTREAM_STATUS', status: 401, message: /refused this gateway's signature; check SERVICE_KEYS/ })
  mode = '401'
  t.match(await get(readJson), { code: 'UPSTREAM_STATUS', status: 401, message: 'test-upstream answered 401' }, 'a 401 for another reason')
  mode = 'not json'
  t.match(await get(readJson), { code: 'UPSTREAM_MALFORMED', message: /not JSON/ })
  mode = 'odd'
  t.match(await get(async (answer) => { throw answer.malformed('an odd shape') }), { code: 'UPSTREAM_MALFORMED', message: 'test-upstream answered an odd shape' })
  const broken = await get(async () => { throw new TypeError('a bug in read') })
  t.match(broken, { code: 'UPSTREAM_MALFORMED' }, 'whatever else read throws is an answer it could not read')
  t.match(broken.cause, { message: 'a bug in read' })

  const refused = await failureOf(client(t, { name: 'nobody', url: 'http://127.0.0.1:1' }).call({ method: 'GET', path: '/' }, readJson))
  t.match(refused, { code: 'UPSTREAM_UNAVAILABLE', upstream: 'nobody', status: undefined })
})

t.test('the deadline covers the whole call, the body included', async (t) => {
  const server = await startServer(t, (req, res) => {
    if (req.url === '/headers-then-nothing') res.writeHead(200, { 'content-type': 'application/json' }).write('{"half":')
    // Otherwise, nothing at all.
  })
  const upstream = client(t, { url: server.url, timeoutMs: 100 })
  t.match(await failureOf(upstream.call({ method: 'GET', path: '/silent' }, readJson)), { code: 'UPSTREAM_TIMEOUT', message: 'test-upstream: no answer within 100 ms' })
  t.match(await failureOf(upstream.call({ method: 'GET', path: '/headers-then-nothing' }, readJson)), { code: 'UPSTREAM_TIMEOUT' })
})

t.test('the breaker counts failures, not answers; open, it refuses at once without a request; a probe closes it', async (t) => {
  let status = 404
  const server = await startServer(t, (_req, res) => res.writeHead(status).end())
  let now = 1_000_000
  const failures: string[] = []
  const upstream = client(t, { url: server.url, now: () => now, onFailure: (err, breaker) => failures.push(`${err.code} ${breaker}`) })
  const readNotFound = async (answer: { statusCode: number, dump: () => Promise<void>, unexpectedStatus: () => Promise<UpstreamError> }): Promise<null> => {
    if (answer.statusCode !== 404) throw await answer.unexpectedStatus()
    await answer.dump()
    return null
  }
  for (let i = 0; i < 5; i++) t.equal(await upstream.call({ method: 'GET', path: '/' }, readNotFound), null)
  t.equal(upstream.breakerState, 'closed', 'a 404 the client reads is an answer')
  status = 500
  for (let i = 0; i < 3; i++) t.equal((await failureOf(upstream.call({ method: 'GET', path: '/' }, readNotFound))).code, 'UPSTREAM_STATUS')
  t.equal(upstream.breakerState, 'open')
  t.same(failures, ['UPSTREAM_STATUS closed', 'UPSTREAM_STATUS closed', 'UPSTREAM_STATUS open'])
  const sent = server.seen.length
  t.match(await failureOf(upstream.call({ method: 'GET', path: '/' }, readNotFound)), { code: 'UPSTREAM_UNAVAILABLE', message: /not asked for a while/ })
  t.equal(server.seen.length, sent, 'no request while open')
  t.ok(upstream.refusing())
  now += 1000
  t.notOk(upstream.refusing(), 'cooled down: a probe may go')
  status = 404
  t.equal(await upstream.call({ method: 'GET', path: '/' }, readNotFound), null)
  t.equal(upstream.breakerState, 'closed', 'the probe was answered')
})

t.test('admit takes the breaker\'s leave for a call that then goes admitted, as a caller deciding key by key does', async (t) => {
  let status = 500
  const server = await startServer(t, (_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end('{}'))
  let now = 1_000_000
  const upstream = client(t, { url: server.url, now: () => now, breaker: { failureThreshold: 1, cooldownMs: 1000 } })
  await failureOf(upstream.call({ method: 'GET', path: '/' }, readJson))
  t.equal(upstream.admit(), false, 'open')
  now += 1000
  t.equal(upstream.admit(), true, 'the probe…')
  t.equal(upstream.admit(), false, '…is taken once')
  status = 200
  t.same(await upstream.call({ method: 'GET', path: '/', admitted: true }, readJson), {}, 'the admitted call goes out without asking again')
  t.equal(upstream.breakerState, 'closed')
})

t.test('a closed client fails its calls as unavailable; close is idempotent', async (t) => {
  const server = await startServer(t, (_req, res) => res.writeHead(200).end('{}'))
  const upstream = createUpstreamClient({ name: 'closing', url: server.url, timeoutMs: 1000, connections: 1, breaker: { failureThreshold: 1, cooldownMs: 1 } })
  await upstream.close()
  await upstream.close()
  t.match(await failureOf(upstream.call({ method: 'GET', path: '/' }, readJson)), { code: 'UPSTREAM_UNAVAILABLE' })
})

t.test('a call\'s own signer signs it instead of the client\'s', async (t) => {
  const server = await startServer(t, (_req, res) => res.writeHead(200).end('{}'))
  const upstream = client(t, { url: `${server.url}/base`, sign: () => ({ 'x-test-signature': 'the-clients' }) })
  await upstream.call({ method: 'POST', path: '/a', json: '{}', sign: (method, path, body) => ({ 'x-test-signature': `${method} ${path} ${body ?? ''}` }) }, readJson)
  await upstream.call({ method: 'POST', path: '/b', json: '{}' }, readJson)
  t.same(server.seen.map((s) => s.headers['x-test-signature']), ['POST /base/a {}', 'the-clients'])
})

t.test('destroy fails a call in flight as unavailable at once, whatever its deadline', async (t) => {
  const server = await startServer(t, () => {})
  const upstream = createUpstreamClient({ name: 'destroyed', url: server.url, timeoutMs: 600_000, connections: 1, breaker: { failureThreshold: 5, cooldownMs: 1 } })
  const call = failureOf(upstream.call({ method: 'GET', path: '/' }, readJson))
  while (server.seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
  await upstream.destroy()
  t.match(await call, { code: 'UPSTREAM_UNAVAILABLE' })
})

t.test('dependencyDown: an upstream failure is GW_DEPENDENCY_DOWN with its message; anything else passes', async (t) => {
  const failure = new UpstreamError('UPSTREAM_TIMEOUT', 'auth-server', 'auth-server: no answer within 5 ms')
  const mapped = dependencyDown(failure)
  t.ok(mapped instanceof GatewayError)
  t.match(mapped, { code: 'GW_DEPENDENCY_DOWN', statusCode: 503, message: 'auth-server: no answer within 5 ms', cause: failure })
  const other = new Error('other')
  t.equal(dependencyDown(other), other)
})

t.test('bad options are refused', async (t) => {
  const good = { name: 'x', url: 'http://127.0.0.1:1', timeoutMs: 10, connections: 1, breaker: { failureThreshold: 1, cooldownMs: 1 } }
  t.throws(() => createUpstreamClient({ ...good, url: 'not a url' }), TypeError)
  t.throws(() => createUpstreamClient({ ...good, url: 'ftp://x' }), TypeError)
  t.throws(() => createUpstreamClient({ ...good, timeoutMs: 0 }), TypeError)
  t.throws(() => createUpstreamClient({ ...good, connections: 0 }), TypeError)
  t.throws(() => createUpstreamClient({ ...good, breaker: { failureThreshold: 0, cooldownMs: 1 } }), TypeError)
})
