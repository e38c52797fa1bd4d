import { createHmac } from 'node:crypto'
import t from 'tap'
import { createMemoryNonceLedger, createStoreNonceLedger } from '../../src/signing/nonce-ledger.js'
import {
  EMPTY_BODY_DIGEST, SERVICE_SIGNATURE_HEADER, bodyDigest, createServiceSigner, createServiceVerifier,
  formatServiceKeys, generateServiceKey, parseServiceKeys, type SignatureClaim
} from '../../src/signing/service-request.js'
import { startTestStore } from '../helpers/store.js'

const secretA = 'a'.repeat(32)
const secretB = 'b'.repeat(40)
let clock = Date.parse('2030-01-01T00:00:00Z')
const now = (): number => clock

function signed (key: { id: string, secret: string }, method: string, path: string, body?: string): string {
  return createServiceSigner(key, { now })(method, path, body)[SERVICE_SIGNATURE_HEADER] ?? ''
}

t.test('SERVICE_KEYS: id:secret pairs, each checked with a message that names the fault', async (t) => {
  t.same(parseServiceKeys(`gw:${secretA}, gw:${secretB},resolver.1:${secretA}`), [
    { id: 'gw', secret: secretA }, { id: 'gw', secret: secretB }, { id: 'resolver.1', secret: secretA }
  ])
  t.same(parseServiceKeys(''), [])
  t.same(parseServiceKeys(`gw:${secretA}:with-colon`), [{ id: 'gw', secret: `${secretA}:with-colon` }], 'the first colon splits')
  t.throws(() => parseServiceKeys('gw'), /id:secret/)
  t.throws(() => parseServiceKeys(`:${secretA}`), /service id must be/)
  t.throws(() => parseServiceKeys(`g w:${secretA}`), /service id must be/)
  t.throws(() => parseServiceKeys('gw:short'), /secret of gw must be 32–512 characters, got 5/)
  t.throws(() => parseServiceKeys(`gw:${'x'.repeat(513)}`), /got 513/)
  t.throws(() => parseServiceKeys(`gw:${secretA},gw:${secretA}`), /listed twice/)
  const made = generateServiceKey('dev')
  t.match(made.secret, /^[0-9a-f]{64}$/)
  t.same(parseServiceKeys(formatServiceKeys([made])), [made])
})

t.test('the header says who, when and which nonce, and the HMAC is the documented one', async (t) => {
  const header = signed({ id: 'gw', secret: secretA }, 'POST', '/authorize', '{"a":1}')
  const match = /^v1 id=gw,ts=(\d+),nonce=([0-9a-f]{32}),sig=([0-9a-f]{64})$/.exec(header)
  t.ok(match, header)
  const [, ts, nonce, sig] = match ?? []
  t.equal(Number(ts), clock / 1000)
  const expected = createHmac('sha256', secretA)
    .update(`v1\ngw\n${ts}\n${nonce}\nPOST\n/authorize\n${bodyDigest('{"a":1}')}`)
    .digest('hex')
  t.equal(sig, expected, 'docs/services.md\'s recipe, computed independently')
  t.equal(bodyDigest(''), EMPTY_BODY_DIGEST)
  t.equal(bodyDigest(undefined), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
  const sign = createServiceSigner({ id: 'gw', secret: secretA }, { now })
  const nonces = new Set(Array.from({ length: 1000 }, () => /nonce=(\w+)/.exec(sign('GET', '/x')[SERVICE_SIGNATURE_HEADER] ?? '')?.[1]))
  t.equal(nonces.size, 1000, 'every call has a nonce of its own')
})

t.test('the verifier: each refusal, and the clock skew both ways', async (t) => {
  const verifier = createServiceVerifier({ keys: [{ id: 'gw', secret: secretA }], clockSkewS: 30, now })
  const header = signed({ id: 'gw', secret: secretA }, 'GET', '/resolve?ip=1.2.3.4')
  const claim = verifier.read(header) as SignatureClaim
  t.type(claim, 'object')
  t.equal(claim.acceptedUntil, clock + 30_000)
  t.ok(verifier.matches(claim, 'GET', '/resolve?ip=1.2.3.4', EMPTY_BODY_DIGEST))
  t.notOk(verifier.matches(claim, 'GET', '/resolve?ip=1.2.3.5', EMPTY_BODY_DIGEST), 'another query')
  t.notOk(verifier.matches(claim, 'POST', '/resolve?ip=1.2.3.4', EMPTY_BODY_DIGEST), 'another method')
  t.notOk(verifier.matches(claim, 'GET', '/resolve?ip=1.2.3.4', bodyDigest('x')), 'another body')

  t.equal(verifier.read(undefined), 'missing')
  t.equal(verifier.read(''), 'missing')
  t.equal(verifier.read([header, header]), 'malformed')
  t.equal(verifier.read(header.slice(0, -1)), 'malformed')
  t.equal(verifier.read(`${header}, ${header}`), 'malformed')
  t.equal(verifier.read(header.replace(/sig=[0-9a-f]/, 'sig=Z')), 'malformed')
  t.equal(verifier.read(signed({ id: 'other', secret: secretA }, 'GET', '/')), 'unknown')
  const wrongKey = verifier.read(signed({ id: 'gw', secret: secretB }, 'GET', '/')) as SignatureClaim
  t.notOk(verifier.matches(wrongKey, 'GET', '/', EMPTY_BODY_DIGEST), 'the right id with another secret')

  const start = clock
  t.teardown(() => { clock = start })
  clock = start + 30_000
  t.type(verifier.read(header), 'object', 'a skew of 30 s is accepted')
  clock = start + 30_001
  t.equal(verifier.read(header), 'stale')
  clock = start - 30_000
  t.type(verifier.read(header), 'object')
  clock = start - 30_001
  t.equal(verifier.read(header), 'stale', 'from the future too')

  t.throws(() => createServiceVerifier({ keys: [], clockSkewS: 30 }), TypeError)
  t.throws(() => createServiceVerifier({ keys: [{ id: 'gw', secret: secretA }], clockSkewS: 0 }), TypeError)
})

t.test('rotation: both secrets of an id verify while both are listed, only the listed ones', async (t) => {
  const both = createServiceVerifier({ keys: [{ id: 'gw', secret: secretB }, { id: 'gw', secret: secretA }], clockSkewS: 30, now })
  const onlyNew = createServiceVerifier({ keys: [{ id: 'gw', secret: secretB }], clockSkewS: 30, now })
  const old = signed({ id: 'gw', secret: secretA }, 'GET', '/')
  const fresh = signed({ id: 'gw', secret: secretB }, 'GET', '/')
  t.ok(both.matches(both.read(old) as SignatureClaim, 'GET', '/', EMPTY_BODY_DIGEST))
  t.ok(both.matches(both.read(fresh) as SignatureClaim, 'GET', '/', EMPTY_BODY_DIGEST))
  t.notOk(onlyNew.matches(onlyNew.read(old) as SignatureClaim, 'GET', '/', EMPTY_BODY_DIGEST), 'the old one, once it is dropped')
  t.ok(onlyNew.matches(onlyNew.read(fresh) as SignatureClaim, 'GET', '/', EMPTY_BODY_DIGEST))
})

t.test('a memory ledger refuses a nonce twice and forgets it once its time is past', async (t) => {
  const start = clock
  t.teardown(() => { clock = start })
  const ledger = createMemoryNonceLedger({ now })
  t.equal(await ledger.claim('gw', 'n1', clock + 5000), true)
  t.equal(await ledger.claim('gw', 'n1', clock + 5000), false)
  t.equal(await ledger.claim('other', 'n1', clock + 5000), true, 'nonces are per caller')
  clock += 6000
  t.equal(await ledger.claim('gw', 'n2', clock + 5000), true, 'a sweep runs')
  t.equal(await ledger.claim('gw', 'n1', clock + 5000), true, 'n1 was swept: its timestamp would be refused anyway')
  ledger.close()
})

t.test('a memory ledger forgets many nonces in the order they came, and keeps the ones still accepted', async (t) => {
  const start = clock
  t.teardown(() => { clock = start })
  const ledger = createMemoryNonceLedger({ now })
  let first = 0
  for (let i = 0; i < 3000; i++) if (ledger.claim('gw', `old-${i}`, clock + 1000) === true) first++
  t.equal(first, 3000, 'each of 3,000 nonces claimed once')
  // One whose timestamp is accepted longer, behind the others.
  t.equal(ledger.claim('gw', 'late', clock + 60_000), true)
  for (let i = 0; i < 3000; i += 500) t.equal(ledger.claim('gw', `old-${i}`, clock + 1000), false, `old-${i} is a replay while accepted`)
  clock += 2000
  t.equal(ledger.claim('gw', 'new', clock + 1000), true)
  for (let i = 0; i < 3000; i += 500) t.equal(ledger.claim('gw', `old-${i}`, clock + 1000), true, `old-${i} forgotten once its time was past`)
  t.equal(ledger.claim('gw', 'late', clock + 60_000), false, 'one still accepted is still remembered')
  t.equal(ledger.claim('gw', 'new', clock + 1000), false)
  ledger.close()
})

t.test('a store ledger: one insert per call, duplicates refused, expired nonces swept', async (t) => {
  const store = await startTestStore(t)
  const start = clock
  t.teardown(() => { clock = start })
  const nonces = store.collections.serviceNonces
  const a = createStoreNonceLedger(nonces, { now, sweepMs: 1000 })
  const b = createStoreNonceLedger(nonces, { now, sweepMs: 1000 })
  t.equal(await a.claim('gw', 'n1', clock + 5000), true)
  t.equal(await b.claim('gw', 'n1', clock + 5000), false, 'another replica on the same store refuses it')
  t.equal(await b.claim('gw', 'n2', clock + 5000), true)
  clock += 6000
  t.equal(await a.claim('gw', 'n3', clock + 5000), true)
  // The sweep is not awaited by claim; wait for its effect.
  for (let i = 0; i < 50 && await nonces.countDocuments({ _id: { $in: ['gw:n1', 'gw:n2'] } }) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(await nonces.countDocuments({ _id: { $in: ['gw:n1', 'gw:n2'] } }), 0, 'expired ones deleted without a TTL index')
  t.equal(await nonces.countDocuments({ _id: 'gw:n3' }), 1)
  const failing = createStoreNonceLedger({
    insertOne: async () => { throw new Error('store down') },
    deleteMany: async () => { throw new Error('store down') }
  } as never, { now })
  await t.rejects(Promise.resolve(failing.claim('gw', 'n', clock)), /store down/, 'a store that cannot answer is not a replay')
})
