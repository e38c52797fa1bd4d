// handleStreamRequest without HTTP: a warm request is answered synchronously from the caches,
// with exactly the answer the loading path gives, and anything not cached goes the async way.
// Billing, the server directory and the node snapshot are the real ones over the embedded
// store; geo and auth are in-memory stand-ins that count what they are asked.

import t from 'tap'
import { createPolicy } from '../../../src/balancing/policies.js'
import { createBillingChecker } from '../../../src/billing/check-limits.js'
import { createServerDirectory } from '../../../src/directory/server-directory.js'
import { gatewayError, GatewayError } from '../../../src/errors.js'
import type { GeoAnswer } from '../../../src/geo/resolver-client.js'
import type { IPLocation } from '../../../src/geo/location.js'
import { handleStreamRequest, type StreamAnswer, type StreamRequestDeps, type StreamRequestInput } from '../../../src/handlers/stream/stream-request.js'
import { createRedirectMemo } from '../../../src/handlers/stream/redirect-memo.js'
import type { Principal } from '../../../src/auth/auth-client.js'
import { parseSigningKeys } from '../../../src/signing/keys.js'
import { createRedirectGrants } from '../../../src/signing/redirect-grants.js'
import { createStreamSigner, createStreamVerifier } from '../../../src/signing/stream-signature.js'
import type { BalancingPolicy } from '../../../src/balancing/policy.js'
import { loadRoutingSnapshot } from '../../../src/routing/routing-snapshot.js'
import { seedDemoData } from '../../../src/demo/seed.js'
import { markDemoNodesAlive, TEST_SIGNING_KEYS } from '../../helpers/system.js'
import { startTestStore } from '../../helpers/store.js'

const MOSCOW: IPLocation = { country_code: 'RU', region_iso: 'RU-MOW', city: 'Moscow', coordinates: [55.75, 37.62] }
const VIEWER = 'viewer-token'
const DENIED = 'denied-token'
const ADMIN = 'admin-token'
const OTHER_VIEWER = 'other-viewer-token'

const store = await startTestStore(t)
await seedDemoData(store.collections)
await markDemoNodesAlive(store)
const snapshot = await loadRoutingSnapshot(store.collections, Date.now())

function deps (): StreamRequestDeps & { calls: { locate: number, authorize: number } } {
  const calls = { locate: 0, authorize: 0 }
  const located = new Map<string, IPLocation>()
  const granted = new Map<string, Principal | GatewayError>()
  const principals: Record<string, Principal | GatewayError> = {
    [VIEWER]: { owner_type: 'account', owner_id: 'acct-demo', expires_at: null, token_id: '1'.repeat(64) },
    [ADMIN]: { owner_type: 'admin', owner_id: 'demo-admin', expires_at: null, token_id: '2'.repeat(64) },
    [OTHER_VIEWER]: { owner_type: 'account', owner_id: 'acct-demo', expires_at: null, token_id: '3'.repeat(64) },
    [DENIED]: gatewayError('GW_FORBIDDEN', 'this token may not view this camera')
  }
  const now = Date.now
  return {
    calls,
    geo: {
      locateNow: (ip) => {
        const location = located.get(ip)
        return location === undefined ? undefined : { value: { location, source: 'cache' } }
      },
      async locate (ip): Promise<GeoAnswer> {
        const known = located.get(ip)
        if (known !== undefined) return { location: known, source: 'cache' }
        calls.locate++
        located.set(ip, MOSCOW)
        return { location: MOSCOW, source: 'resolver' }
      }
    },
    auth: {
      peek: (token, right) => {
        const answer = granted.get(`${token} ${right.object_id}`)
        if (answer === undefined) return undefined
        return answer instanceof GatewayError ? { error: answer } : { value: answer }
      },
      // Like the real client: answers from its cache, asks (and counts) on a miss.
      async authorize (token, right) {
        const key = `${token} ${right.object_id}`
        let answer = granted.get(key)
        if (answer === undefined) {
          calls.authorize++
          answer = principals[token] ?? gatewayError('GW_TOKEN_INVALID', 'unknown token')
          granted.set(key, answer)
        }
        if (answer instanceof GatewayError) throw answer
        return answer
      }
    },
    routing: { current: () => snapshot },
    policy: createPolicy('rendezvous'),
    billing: createBillingChecker({ collections: store.collections, cacheTtlMs: 60_000, now }),
    servers: createServerDirectory({ servers: store.collections.servers, cacheTtlMs: 60_000, now }),
    memo: createRedirectMemo(now),
    grants: createRedirectGrants(createStreamSigner({ keys: parseSigningKeys(TEST_SIGNING_KEYS), issuer: 'gw-test', ttlSeconds: 60, now }), now),
    signatureParam: 'sig',
    nodeTtlMs: 15_000,
    bindClientIp: false,
    now
  }
}

const input = (fields: Partial<StreamRequestInput> = {}): StreamRequestInput => ({
  format: 'flv',
  server: 'UIN-DEMO-1',
  camera: 'cam-1',
  token: VIEWER,
  pattern: 'streaming',
  clientIp: '77.88.8.8',
  fromIp: undefined,
  ...fields
})

t.test('a cold request loads; the same request warm is answered synchronously, alike', async (t) => {
  const d = deps()
  const cold = handleStreamRequest(d, input())
  t.ok(cold instanceof Promise, 'the first request has things to load')
  const first = await cold
  const warm = handleStreamRequest(d, input())
  t.notOk(warm instanceof Promise, 'every step is cached: no promise')
  const second = warm as StreamAnswer
  t.same({ url: second.url, node: second.node, group: second.group, owner: second.owner }, { url: first.url, node: first.node, group: first.group, owner: first.owner })
  t.match(second.node.host, /^moscow-[12]\.nodes\.geogate\.test$/)
  t.same(d.calls, { locate: 1, authorize: 1 }, 'the warm answer called nobody')
})

t.test('one uncached step is enough to take the async path', async (t) => {
  const d = deps()
  await handleStreamRequest(d, input())
  const otherCamera = handleStreamRequest(d, input({ camera: 'cam-2' }))
  t.ok(otherCamera instanceof Promise, 'a new camera is a new auth question')
  t.equal((await otherCamera).node.group, 'ru-central')
  const otherClient = handleStreamRequest(d, input({ clientIp: '77.88.8.1' }))
  t.ok(otherClient instanceof Promise, 'a new client address is a new geo lookup')
  await otherClient
  t.same(d.calls, { locate: 2, authorize: 2 })
})

t.test('a cached denial is thrown at once; a missing token before anything is asked', async (t) => {
  const d = deps()
  await t.rejects(Promise.resolve(handleStreamRequest(d, input({ token: DENIED }))), { code: 'GW_FORBIDDEN' })
  t.throws(() => handleStreamRequest(d, input({ token: DENIED })), { code: 'GW_FORBIDDEN' }, 'remembered, and thrown synchronously')
  t.throws(() => handleStreamRequest(d, input({ token: undefined })), { code: 'GW_TOKEN_MISSING' })
  t.equal(d.calls.authorize, 1)
})

t.test('fromip always asks whether the token is an admin\'s', async (t) => {
  const d = deps()
  for (let i = 0; i < 2; i++) {
    const answer = handleStreamRequest(d, input({ token: ADMIN, fromIp: '77.88.8.8', clientIp: '10.0.0.1' }))
    t.ok(answer instanceof Promise)
    t.equal((await answer).node.group, 'ru-central')
  }
  await t.rejects(Promise.resolve(handleStreamRequest(d, input({ fromIp: 'nowhere' }))), { code: 'GW_BAD_REQUEST' })
})

t.test('a remembered answer is not given past the moment its node goes silent, within its second', async (t) => {
  // Every demo node last beat at `beat`; with no pace learned they go silent NODE_TTL (15 s)
  // later, half-way through a second, so that the memo's second spans the moment.
  const beat = Math.floor(Date.now() / 1000) * 1000 - 60_000 + 500
  const silentAt = beat + 15_000
  await markDemoNodesAlive(store, new Date(beat))
  const aged = await loadRoutingSnapshot(store.collections, beat)
  let clock = silentAt - 100
  const d = { ...deps(), now: () => clock, memo: createRedirectMemo(() => clock), routing: { current: () => aged } }
  const first = await handleStreamRequest(d, input())
  clock = silentAt - 50
  t.equal((await handleStreamRequest(d, input())).url, first.url, 'remembered while its node is alive')
  clock = silentAt + 100
  const after = await (async () => await handleStreamRequest(d, input()))().then((answer) => answer.url, (err: unknown) => err)
  t.not(after, first.url, 'not remembered once its node is silent')
})

t.test('viewers of one stream share its node choice within the second; each gets a grant of their own', async (t) => {
  const rendezvous = createPolicy('rendezvous')
  let choices = 0
  const policy: BalancingPolicy = { ...rendezvous, name: rendezvous.name, choose: (...args) => { choices++; return rendezvous.choose(...args) }, assess: (...args) => rendezvous.assess(...args) }
  // One second throughout: what is remembered is remembered for the rest of the second.
  const clock = Date.now()
  const now = (): number => clock
  const grants = createRedirectGrants(createStreamSigner({ keys: parseSigningKeys(TEST_SIGNING_KEYS), issuer: 'gw-test', ttlSeconds: 60, now }), now)
  const d = { ...deps(), policy, now, memo: createRedirectMemo(now), grants }
  const first = await handleStreamRequest(d, input())
  const chosen = choices
  t.ok(chosen > 0, 'the first viewer\'s request selects')
  const other = await handleStreamRequest(d, input({ token: OTHER_VIEWER, clientIp: '77.88.8.9' }))
  t.equal(choices, chosen, 'the second viewer\'s is answered from the remembered choice')
  t.same(other.node, first.node)
  t.not(other.url, first.url)
  const verifier = createStreamVerifier({ keys: parseSigningKeys(TEST_SIGNING_KEYS) })
  const grantOf = (url: string): string => new URL(url).searchParams.get('sig') ?? ''
  t.equal(verifier.verify(grantOf(first.url)).tid, '1'.repeat(64))
  t.equal(verifier.verify(grantOf(other.url)).tid, '3'.repeat(64), 'the remembered choice carries the second viewer\'s token')
  t.equal(other.grantId, verifier.verify(grantOf(other.url)).jti)
  t.equal(other.url.slice(0, other.url.indexOf('sig=')), first.url.slice(0, first.url.indexOf('sig=')), 'the same URL up to the grant')
  const again = handleStreamRequest(d, input({ token: OTHER_VIEWER, clientIp: '77.88.8.9' })) as StreamAnswer
  t.equal(again.url, other.url, 'the same viewer again within the second: the same signed URL')
  t.equal(again.grantId, other.grantId)
  t.equal(choices, chosen)
})

t.test('URLs bound to the client\'s address: one token from two addresses gets a grant for each', async (t) => {
  const clock = Date.now()
  const now = (): number => clock
  const grants = createRedirectGrants(createStreamSigner({ keys: parseSigningKeys(TEST_SIGNING_KEYS), issuer: 'gw-test', ttlSeconds: 60, now }), now)
  const d = { ...deps(), now, memo: createRedirectMemo(now), grants, bindClientIp: true }
  const verifier = createStreamVerifier({ keys: parseSigningKeys(TEST_SIGNING_KEYS) })
  const cipOf = (answer: StreamAnswer): string | undefined => verifier.verify(new URL(answer.url).searchParams.get('sig') ?? '').cip
  const first = await handleStreamRequest(d, input({ clientIp: '77.88.8.8' }))
  const second = await handleStreamRequest(d, input({ clientIp: '77.88.8.9' }))
  t.same(second.node, first.node, 'one choice for both')
  t.equal(cipOf(first), '77.88.8.8')
  t.equal(cipOf(second), '77.88.8.9', 'not the first address\'s grant')
  t.equal(cipOf(await handleStreamRequest(d, input({ clientIp: '77.88.8.8' }))), '77.88.8.8', 'nor the second\'s, back at the first')
})
