// The resolver and the auth-server, as real servers on loopback, answer only calls signed by a
// known service: each refusal is a 401 GW_SERVICE_UNAUTHORIZED, two auth-server replicas on one
// store refuse each other's nonces, and no signature header, however mangled, makes a 5xx.

import net from 'node:net'
import t, { type Test } from 'tap'
import { request } from 'undici'
import type { FastifyInstance } from 'fastify'
import { createToken } from '../../src/auth/token-admin.js'
import { authServerApp } from '../../src/auth-server/app.js'
import { openCityDatabase } from '../../src/geo/maxmind-lookup.js'
import { resolverApp } from '../../src/resolver/app.js'
import { buildApp } from '../../src/server.js'
import { createMemoryNonceLedger, createStoreNonceLedger } from '../../src/signing/nonce-ledger.js'
import { SERVICE_SIGNATURE_HEADER, createServiceSigner, type ServiceKey } from '../../src/signing/service-request.js'
import { cityFixture } from '../fixtures/mmdb/paths.js'
import { startTestStore } from '../helpers/store.js'

const oldKey: ServiceKey = { id: 'gw', secret: 'old-secret-0123456789abcdef0123456789' }
const newKey: ServiceKey = { id: 'gw', secret: 'new-secret-0123456789abcdef0123456789' }
const strangerKey: ServiceKey = { id: 'stranger', secret: 'stranger-secret-0123456789abcdef0123' }
let clock = Date.parse('2030-01-01T00:00:00Z')
const now = (): number => clock

const store = await startTestStore(t)
const viewer = await createToken(store.collections.tokens, {
  owner_type: 'account', owner_id: 'acct-demo', grants: [{ object_type: 'camera', object_id: 'UIN-DEMO-1/*', rights: ['view'] }]
})
const question = JSON.stringify({ token: viewer.token, rights: 'view', object_type: 'camera', object_id: 'UIN-DEMO-1/cam-1' })

async function listening (app: FastifyInstance): Promise<string> {
  t.teardown(() => app.close())
  return await app.listen({ host: '127.0.0.1', port: 0 })
}

async function authServer (keys: ServiceKey[]): Promise<string> {
  const nonces = createStoreNonceLedger(store.collections.serviceNonces, { now })
  return await listening(await buildApp(authServerApp, { tokens: store.collections.tokens, now, signedCalls: { keys, clockSkewS: 30, nonces } }))
}

// Both replicas list the old and the new key, as during a rotation.
const authA = await authServer([newKey, oldKey])
const authB = await authServer([newKey, oldKey])
const city = await openCityDatabase(cityFixture)
t.teardown(() => city.close())
const resolver = await listening(await buildApp(resolverApp, {
  databases: { city }, now, signedCalls: { keys: [newKey], clockSkewS: 30, nonces: createMemoryNonceLedger({ now }) }
}))

interface Answer { status: number, body: any }

async function call (url: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  const res = await request(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
    ...(body !== undefined && { body })
  })
  const text = await res.body.text()
  return { status: res.statusCode, body: text.startsWith('{') ? JSON.parse(text) : text }
}

function signature (key: ServiceKey, method: string, path: string, body?: string): Record<string, string> {
  return createServiceSigner(key, { now })(method, path, body)
}

const authorize = (url: string, headers: Record<string, string>, body = question): Promise<Answer> => call(url, '/authorize', headers, body)
const resolve = (headers: Record<string, string>, path = '/resolve?ip=81.2.69.160'): Promise<Answer> => call(resolver, path, headers)

function refused (t: Test, answer: Answer, message: RegExp, what = 'refused'): void {
  t.equal(answer.status, 401, what)
  t.equal(answer.body?.error?.code, 'GW_SERVICE_UNAUTHORIZED')
  t.match(answer.body?.error?.message, message)
}

t.test('the batch routes are signed like the others: answered when signed, refused when not or when the body differs', async (t) => {
  const ips = JSON.stringify({ ips: ['81.2.69.160', '10.0.0.1'] })
  const located = await call(resolver, '/resolve/batch', signature(newKey, 'POST', '/resolve/batch', ips), ips)
  t.equal(located.status, 200)
  t.equal(located.body.answers.length, 2)
  refused(t, await call(resolver, '/resolve/batch', {}, ips), /carries no/, 'unsigned')
  const tokens = JSON.stringify({ tokens: [viewer.token, 'no-such-token'] })
  const introspected = await call(authA, '/introspect/batch', signature(newKey, 'POST', '/introspect/batch', tokens), tokens)
  t.equal(introspected.status, 200)
  t.same(introspected.body.answers.map((a: { active: boolean }) => a.active), [true, false])
  const other = JSON.stringify({ tokens: ['no-such-token', viewer.token] })
  refused(t, await call(authA, '/introspect/batch', signature(newKey, 'POST', '/introspect/batch', tokens), other), /signature is wrong/, 'another body')
})

t.test('a signed batch nested too deep is a 400, from the one JSON parser of every app', async (t) => {
  const deep = `{"tokens":${'['.repeat(10_000)}${']'.repeat(10_000)}}`
  const introspected = await call(authA, '/introspect/batch', signature(newKey, 'POST', '/introspect/batch', deep), deep)
  t.equal(introspected.status, 400)
  t.equal(introspected.body.error.code, 'GW_BAD_REQUEST')
  t.match(introspected.body.error.message, /nests deeper than 32 levels/)
})

t.test('a signed call is answered by both services', async (t) => {
  const granted = await authorize(authA, signature(newKey, 'POST', '/authorize', question))
  t.equal(granted.status, 200)
  t.equal(granted.body.owner_id, 'acct-demo')
  const located = await resolve(signature(newKey, 'GET', '/resolve?ip=81.2.69.160'))
  t.equal(located.status, 200)
  t.equal(located.body.country_code, 'GB')
})

t.test('each refusal is a 401 with the registry code', async (t) => {
  refused(t, await authorize(authA, {}), /carries no x-geogate-signature/)
  refused(t, await resolve({}), /carries no x-geogate-signature/)
  refused(t, await authorize(authA, { [SERVICE_SIGNATURE_HEADER]: 'v1 id=gw' }), /malformed/)
  refused(t, await authorize(authA, signature(strangerKey, 'POST', '/authorize', question)), /unknown or its signature is wrong/)
  refused(t, await resolve(signature(oldKey, 'GET', '/resolve?ip=81.2.69.160')), /unknown or its signature is wrong/)
  refused(t, await authorize(authA, signature(newKey, 'POST', '/authorize', question.replace('cam-1', 'cam-2'))), /signature is wrong/)
  refused(t, await resolve(signature(newKey, 'GET', '/resolve?ip=81.2.69.161')), /signature is wrong/)

  const start = clock
  const stale = signature(newKey, 'POST', '/authorize', question)
  clock = start + 31_000
  t.teardown(() => { clock = start })
  refused(t, await authorize(authA, stale), /too far from this service's clock/)
  const early = signature(newKey, 'POST', '/authorize', question)
  clock = start
  refused(t, await authorize(authA, early), /too far/, 'a timestamp from the future too')

  const once = signature(newKey, 'POST', '/authorize', question)
  t.equal((await authorize(authA, once)).status, 200)
  refused(t, await authorize(authA, once), /nonce was used before/)
  const onceResolved = signature(newKey, 'GET', '/resolve?ip=81.2.69.160')
  t.equal((await resolve(onceResolved)).status, 200)
  refused(t, await resolve(onceResolved), /nonce was used before/)
})

t.test('a nonce one auth-server replica has seen, the other refuses', async (t) => {
  const header = signature(newKey, 'POST', '/authorize', question)
  t.equal((await authorize(authA, header)).status, 200)
  refused(t, await authorize(authB, header), /nonce was used before/)
  const other = signature(newKey, 'POST', '/authorize', question)
  t.equal((await authorize(authB, other)).status, 200, 'a fresh nonce is answered by either')
  refused(t, await authorize(authA, other), /nonce was used before/)
})

t.test('rotation: the old and the new key both verify while both are listed', async (t) => {
  t.equal((await authorize(authA, signature(oldKey, 'POST', '/authorize', question))).status, 200, 'old')
  t.equal((await authorize(authA, signature(newKey, 'POST', '/authorize', question))).status, 200, 'new')
  const dropped = await authServer([newKey])
  refused(t, await authorize(dropped, signature(oldKey, 'POST', '/authorize', question)), /signature is wrong/)
  t.equal((await authorize(dropped, signature(newKey, 'POST', '/authorize', question))).status, 200)
})

t.test('a refused call never reaches the route: no schema error, no token lookup', async (t) => {
  refused(t, await authorize(authA, {}, '{"not":"a question"}'), /carries no/)
  refused(t, await authorize(authA, {}, 'not json'), /carries no/)
})

t.test('/healthz and /metrics answer without a signature', async (t) => {
  for (const url of [authA, resolver]) {
    t.equal((await call(url, '/healthz', {})).status, 200)
    t.equal((await call(url, '/metrics', {})).status, 200)
  }
})

/** Sends raw header lines, so that a client library neither fixes nor refuses them. */
function rawStatus (url: string, method: string, path: string, headerLines: string[], body = ''): Promise<number> {
  const { port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1')
    let received = ''
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer')))
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1')
      const status = /^HTTP\/1\.1 (\d{3})/.exec(received)
      if (status !== null) {
        socket.destroy()
        resolve(Number(status[1]))
      }
    })
    socket.on('error', reject)
    socket.on('close', () => { if (!/^HTTP/.test(received)) reject(new Error(`closed without an answer: ${received}`)) })
    const lines = [`${method} ${path} HTTP/1.1`, 'host: 127.0.0.1', ...headerLines]
    if (body !== '') lines.push('content-type: application/json', `content-length: ${Buffer.byteLength(body)}`)
    socket.write(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), Buffer.from(body)]))
  })
}

t.test('fuzz: no signature header, however mangled, yields a 5xx', async (t) => {
  const good = signature(newKey, 'POST', '/authorize', question)[SERVICE_SIGNATURE_HEADER] ?? ''
  const mangled: string[] = [
    good.slice(0, 10), good.slice(0, -1), good.slice(1), `${good}0`, `${good}\t,`,
    good.replace(/sig=.{4}/, 'sig=zzzz'), good.replace(/ts=\d+/, 'ts=-1'), good.replace(/ts=\d+/, 'ts=99999999999999999999'),
    good.replace(/ts=\d+/, 'ts=1e3'), good.replace(/nonce=\w+/, 'nonce='), good.replace(/id=\w+/, 'id='),
    good.replace('v1', 'v2'), good.toUpperCase(), good.replaceAll(',', ' '), `${good}, ${good}`,
    `v1 id=${'g'.repeat(10_000)},ts=1,nonce=${'0'.repeat(32)},sig=${'0'.repeat(64)}`,
    'x'.repeat(12_000), 'v1 id=gw,ts=1893456000,nonce=ééééééééééééééééé,sig=' + 'é'.repeat(64),
    'v1 id=gw🙂,ts=1,nonce=0000000000000000,sig=' + '0'.repeat(64), '\u0000', '=,=,=', 'v1 id=gw,ts=,nonce=,sig='
  ]
  // Random bytes shaped like the header, from a seeded generator so that a failure repeats.
  let seed = 19
  const random = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
  const alphabet = 'v1 id=gw,ts=0123456789abcdefnoncesig=-_.ZÿĀ🙂'
  for (let i = 0; i < 150; i++) {
    const chars = Array.from(good)
    for (let k = 0; k < 1 + random(6); k++) chars.splice(random(chars.length + 1), random(3), alphabet[random(alphabet.length)] ?? '')
    mangled.push(chars.join(''))
  }
  // The good header itself is used first: a mangling that HTTP normalizes back into it (trailing
  // whitespace is trimmed from header values) is then a replay, and refused like any other.
  t.equal(await rawStatus(authA, 'POST', '/authorize', [`${SERVICE_SIGNATURE_HEADER}: ${good}`], question), 200, 'the good header passes once')
  const statuses = new Map<number, number>()
  for (const value of mangled) {
    for (const [url, method, path, body] of [[authA, 'POST', '/authorize', question], [resolver, 'GET', '/resolve?ip=81.2.69.160', '']] as const) {
      const lines = value.includes('\u0000') ? [] : [`${SERVICE_SIGNATURE_HEADER}: ${value}`]
      const status = await rawStatus(url, method, path, lines, body)
      statuses.set(status, (statuses.get(status) ?? 0) + 1)
      if (status >= 500) t.fail(`${status} for ${JSON.stringify(value.slice(0, 80))}`)
    }
  }
  for (const [url, method, path, body] of [[authA, 'POST', '/authorize', question], [resolver, 'GET', '/resolve?ip=81.2.69.160', '']] as const) {
    const twice = [`${SERVICE_SIGNATURE_HEADER}: ${good}`, `${SERVICE_SIGNATURE_HEADER}: ${good}`]
    t.equal(await rawStatus(url, method, path, twice, body), 401, 'the header twice')
    const enormous = [`${SERVICE_SIGNATURE_HEADER}: ${'f'.repeat(20_000)}`]
    const status = await rawStatus(url, method, path, enormous, body)
    t.ok(status === 431 || status === 401 || status === 400, `an enormous header: ${status}`)
  }
  t.notOk([...statuses.keys()].some((s) => s >= 500), `statuses seen: ${JSON.stringify(Object.fromEntries(statuses))}`)
  t.ok([...statuses.keys()].every((s) => s === 401 || s === 400 || s === 431), 'every one refused')
})
