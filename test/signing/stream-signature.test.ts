import { createHmac, generateKeyPairSync, sign as signData } from 'node:crypto'
import t from 'tap'
import jwt from 'jsonwebtoken'
import { parseSigningKeys, type SigningKey } from '../../src/signing/keys.js'
import {
  createStreamSigner, createStreamVerifier, SignatureError, type SignatureFailure, type StreamGrant
} from '../../src/signing/stream-signature.js'

let clock = Date.parse('2030-01-01T00:00:00.250Z')
const now = (): number => clock
const t0 = Math.floor(clock / 1000)

const secretA = 'secret-A-at-least-32-bytes-long-000'
const secretB = 'secret-B-at-least-32-bytes-long-111'
const [keyA, keyB] = parseSigningKeys(`a=HS256:${secretA},b=HS256:${secretB}`) as [SigningKey, SigningKey]
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const ecPrivatePem = String(ec.privateKey.export({ type: 'pkcs8', format: 'pem' }))
const ecPublicPem = String(ec.publicKey.export({ type: 'spki', format: 'pem' }))
const files: Record<string, string> = { '/keys/es.pem': ecPrivatePem, '/keys/es.pub.pem': ecPublicPem }
const readFile = (p: string): string => {
  const pem = files[p]
  if (pem === undefined) throw new Error('no such file')
  return pem
}
const [esPrivate] = parseSigningKeys('es=ES256:/keys/es.pem', { readFile }) as [SigningKey]
const [esPublic] = parseSigningKeys('es=ES256:/keys/es.pem,es-pub=ES256:/keys/es.pub.pem', { readFile }).slice(1) as [SigningKey]
const esVerifyOnly: SigningKey = { ...esPublic, kid: 'es' }

const grant: StreamGrant = { aud: 'node-moscow-1', sub: 'UIN-DEMO-1/cam-1', fmt: 'flv', own: 'acct-demo', jti: 'sess-1' }

function reasonOf (fn: () => unknown): SignatureFailure | string {
  try {
    fn()
    return 'accepted'
  } catch (err) {
    return err instanceof SignatureError ? err.reason : `not a SignatureError: ${String(err)}`
  }
}

function part (token: string, i: number): any {
  return JSON.parse(Buffer.from(token.split('.')[i] ?? '', 'base64url').toString())
}

function forge (header: object, payload: object, signature: (input: string) => string): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`
  return `${input}.${signature(input)}`
}

t.test('the token carries the claims, kid and alg; exp = iat + 60 by default', async (t) => {
  const signer = createStreamSigner({ keys: [keyA, keyB], issuer: 'gw-1', now })
  t.equal(signer.keyId, 'a')
  const { token, expiresAt } = signer.sign(grant)
  t.same(part(token, 0), { alg: 'HS256', typ: 'JWT', kid: 'a' })
  t.same(part(token, 1), { iss: 'gw-1', ...grant, iat: t0, exp: t0 + 60 })
  t.equal(expiresAt, (t0 + 60) * 1000)
  const bound = signer.sign({ ...grant, cip: '77.88.8.8' })
  t.equal(part(bound.token, 1).cip, '77.88.8.8')
  const short = createStreamSigner({ keys: [keyA], issuer: 'gw-1', ttlSeconds: 5, now }).sign(grant)
  t.equal(part(short.token, 1).exp, t0 + 5)
})

t.test('jsonwebtoken, on its own, accepts what the signer makes', async (t) => {
  const hs = createStreamSigner({ keys: [keyA], issuer: 'gw-1', now }).sign(grant).token
  t.match(jwt.verify(hs, secretA, { algorithms: ['HS256'], clockTimestamp: t0 }), { sub: grant.sub })
  const es = createStreamSigner({ keys: [esPrivate], issuer: 'gw-1', now }).sign(grant).token
  t.match(jwt.verify(es, ecPublicPem, { algorithms: ['ES256'], clockTimestamp: t0 }), { sub: grant.sub })
})

t.test('verify answers the claims; each listed key verifies (rotation)', async (t) => {
  const byA = createStreamSigner({ keys: [keyA], issuer: 'gw-1', now }).sign({ ...grant, cip: '1.2.3.4' }).token
  const rotated = createStreamVerifier({ keys: [keyB, keyA], now })
  t.same(rotated.verify(byA, { audience: 'node-moscow-1', subject: 'UIN-DEMO-1/cam-1', clientIp: '1.2.3.4' }),
    { iss: 'gw-1', ...grant, cip: '1.2.3.4', iat: t0, exp: t0 + 60 })
  const byB = createStreamSigner({ keys: [keyB, keyA], issuer: 'gw-1', now }).sign(grant).token
  t.equal(part(byB, 0).kid, 'b')
  t.equal(rotated.verify(byB).jti, 'sess-1')
  const retired = createStreamVerifier({ keys: [keyB], now })
  t.equal(reasonOf(() => retired.verify(byA)), 'unknown_key')
})

t.test('a tampered token is bad_signature', async (t) => {
  const verifier = createStreamVerifier({ keys: [keyA], now })
  const token = createStreamSigner({ keys: [keyA], issuer: 'gw-1', now }).sign(grant).token
  const [h, p, s] = token.split('.') as [string, string, string]
  const flipped = `${s.slice(0, 5)}${s[5] === 'A' ? 'B' : 'A'}${s.slice(6)}`
  t.equal(reasonOf(() => verifier.verify(`${h}.${p}.${flipped}`)), 'bad_signature')
  const otherCamera = Buffer.from(JSON.stringify({ ...part(token, 1), sub: 'UIN-DEMO-1/cam-2' })).toString('base64url')
  t.equal(reasonOf(() => verifier.verify(`${h}.${otherCamera}.${s}`)), 'bad_signature')
  const sameKidOtherSecret = forge(part(token, 0), part(token, 1), (input) => createHmac('sha256', secretB).update(input).digest('base64url'))
  t.equal(reasonOf(() => verifier.verify(sameKidOtherSecret)), 'bad_signature')
})

t.test('expiry follows the injected clock, with optional tolerance', async (t) => {
  const start = clock
  t.teardown(() => { clock = start })
  const token = createStreamSigner({ keys: [keyA], issuer: 'gw-1', now }).sign(grant).token
  const verifier = createStreamVerifier({ keys: [keyA], now })
  const lenient = createStreamVerifier({ keys: [keyA], now, clockToleranceSeconds: 5 })
  clock = (t0 + 59) * 1000
  t.equal(reasonOf(() => verifier.verify(token)), 'accepted')
  clock = (t0 + 60) * 1000
  t.equal(reasonOf(() => verifier.verify(token)), 'expired')
  t.equal(reasonOf(() => lenient.verify(token)), 'accepted')
  clock = (t0 + 66) * 1000
  t.equal(reasonOf(() => lenient.verify(token)), 'expired')
})

t.test('wrong audience, subject or client IP each have their reason', async (t) => {
  const signer = createStreamSigner({ keys: [keyA], issuer: 'gw-1', now })
  const verifier = createStreamVerifier({ keys: [keyA], now })
  const token = signer.sign({ ...grant, cip: '77.88.8.8' }).token
  t.equal(reasonOf(() => verifier.verify(token, { audience: 'node-london-1' })), 'wrong_audience')
  t.equal(reasonOf(() => verifier.verify(token, { subject: 'UIN-DEMO-1/cam-2' })), 'wrong_subject')
  t.equal(reasonOf(() => verifier.verify(token, { clientIp: '77.88.8.9' })), 'wrong_client_ip')
  t.equal(reasonOf(() => verifier.verify(token, { clientIp: '::ffff:77.88.8.8' })), 'accepted', 'an IPv4-mapped address is the same client')
  const unbound = signer.sign(grant).token
  t.equal(reasonOf(() => verifier.verify(unbound, { clientIp: '10.0.0.1' })), 'accepted', 'no cip: not bound')
})

t.test('ES256: the gateway signs with the private key, a node verifies with only the public one', async (t) => {
  const signer = createStreamSigner({ keys: [esPrivate], issuer: 'gw-1', now })
  const { token } = signer.sign(grant)
  t.same(part(token, 0), { alg: 'ES256', typ: 'JWT', kid: 'es' })
  t.equal(Buffer.from(token.split('.')[2] ?? '', 'base64url').length, 64, 'r||s, as JWS wants')
  const node = createStreamVerifier({ keys: [esVerifyOnly], now })
  t.equal(esVerifyOnly.signKey, null)
  t.equal(node.verify(token, { audience: 'node-moscow-1' }).own, 'acct-demo')
  t.throws(() => createStreamSigner({ keys: [esVerifyOnly], issuer: 'gw-1', now }), TypeError, 'a public key cannot sign')
})

t.test('the kid pins the algorithm: alg none or another key\'s alg is rejected', async (t) => {
  const verifier = createStreamVerifier({ keys: [keyA, esVerifyOnly], now })
  const claims = { iss: 'gw-1', ...grant, iat: t0, exp: t0 + 60 }
  const none = forge({ alg: 'none', typ: 'JWT', kid: 'a' }, claims, () => '')
  t.equal(reasonOf(() => verifier.verify(none)), 'bad_signature', 'alg none')
  const esUnderHsKid = forge({ alg: 'ES256', typ: 'JWT', kid: 'a' }, claims, (input) =>
    signData('sha256', Buffer.from(input), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url'))
  t.equal(reasonOf(() => verifier.verify(esUnderHsKid)), 'bad_signature', 'ES256 under an HS256 kid')
  // The classic confusion: HMAC keyed with the public key, under the ES256 key's kid.
  const hsWithPublicKey = forge({ alg: 'HS256', typ: 'JWT', kid: 'es' }, claims, (input) =>
    createHmac('sha256', ecPublicPem).update(input).digest('base64url'))
  t.equal(reasonOf(() => verifier.verify(hsWithPublicKey)), 'bad_signature', 'HS256 under an ES256 kid')
})

t.test('malformed tokens and missing kids', async (t) => {
  const verifier = createStreamVerifier({ keys: [keyA], now })
  t.equal(reasonOf(() => verifier.verify('')), 'malformed')
  t.equal(reasonOf(() => verifier.verify('not-a-jwt')), 'malformed')
  t.equal(reasonOf(() => verifier.verify('%%%.e30.x')), 'malformed')
  const kidOnlyHeader = Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'a' })).toString('base64url')
  t.equal(reasonOf(() => verifier.verify(`${kidOnlyHeader}.x`)), 'malformed', 'two parts')
  t.equal(reasonOf(() => verifier.verify(forge({ alg: 'HS256' }, {}, () => 'x'))), 'unknown_key', 'no kid')
  t.equal(reasonOf(() => verifier.verify(forge({ alg: 'HS256', kid: 'zz' }, {}, () => 'x'))), 'unknown_key')
  const hmacA = (input: string) => createHmac('sha256', secretA).update(input).digest('base64url')
  const noFormat = forge({ alg: 'HS256', kid: 'a' }, { iss: 'gw-1', aud: 'n', sub: 's', own: 'o', jti: 'j', iat: t0, exp: t0 + 60 }, hmacA)
  t.equal(reasonOf(() => verifier.verify(noFormat)), 'malformed', 'a claim missing')
  const badFormat = forge({ alg: 'HS256', kid: 'a' }, { iss: 'gw-1', aud: 'n', sub: 's', fmt: 'mp4', own: 'o', jti: 'j', iat: t0, exp: t0 + 60 }, hmacA)
  t.equal(reasonOf(() => verifier.verify(badFormat)), 'malformed', 'an unknown format')
  const noExpiry = forge({ alg: 'HS256', kid: 'a' }, { iss: 'gw-1', aud: 'n', sub: 's', fmt: 'flv', own: 'o', jti: 'j', iat: t0 }, hmacA)
  t.equal(reasonOf(() => verifier.verify(noExpiry)), 'malformed', 'no exp: never valid forever')
})

t.test('bad options are refused', async (t) => {
  t.throws(() => createStreamSigner({ keys: [], issuer: 'gw-1' }), TypeError)
  t.throws(() => createStreamSigner({ keys: [keyA], issuer: 'gw-1', ttlSeconds: 0 }), TypeError)
  t.throws(() => createStreamSigner({ keys: [keyA], issuer: 'gw-1', ttlSeconds: 1.5 }), TypeError)
  t.throws(() => createStreamVerifier({ keys: [] }), TypeError)
  t.throws(() => createStreamVerifier({ keys: [keyA], clockToleranceSeconds: -1 }), TypeError)
})

t.test('a remembered grant skips the signature check only: time, audience and tampering still count', async (t) => {
  const signer = createStreamSigner({ keys: [keyA], issuer: 'gw-1', now })
  const verifier = createStreamVerifier({ keys: [keyA], now, rememberMax: 2 })
  const { token } = signer.sign(grant)
  t.equal(verifier.verify(token, { audience: 'node-moscow-1' }).jti, 'sess-1')
  t.equal(verifier.verify(token, { audience: 'node-moscow-1' }).jti, 'sess-1', 'again, remembered')
  t.equal(reasonOf(() => verifier.verify(token, { audience: 'node-london-1' })), 'wrong_audience')
  t.equal(reasonOf(() => verifier.verify(token, { subject: 'UIN-DEMO-1/cam-2' })), 'wrong_subject')
  const tampered = `${token.slice(0, -2)}${token.at(-2) === 'A' ? 'B' : 'A'}${token.at(-1) ?? ''}`
  t.equal(reasonOf(() => verifier.verify(tampered)), 'bad_signature')
  const saved = clock
  clock += 60_000
  t.equal(reasonOf(() => verifier.verify(token)), 'expired')
  t.equal(verifier.verify(token, { allowExpired: true }).jti, 'sess-1')
  clock = saved
  const ahead = createStreamSigner({ keys: [keyA], issuer: 'gw-1', now: () => saved + 60_000 }).sign(grant).token
  t.equal(reasonOf(() => verifier.verify(ahead)), 'issued_ahead', 'never remembered, since it failed')
})

t.test('the token id travels as 43 base64url characters and verifies back to the hex digest', async (t) => {
  const tid = createHmac('sha256', 'any').update('a token').digest('hex')
  const signer = createStreamSigner({ keys: [keyA], issuer: 'gw-1', now })
  const { token } = signer.sign({ ...grant, tid })
  const wire = part(token, 1).tid
  t.equal(wire, Buffer.from(tid, 'hex').toString('base64url'))
  t.equal(wire.length, 43, 'shorter than the 64 hex characters')
  t.equal(createStreamVerifier({ keys: [keyA], now }).verify(token).tid, tid, 'the claims name the token as the tokens collection does')
  t.equal(createStreamVerifier({ keys: [keyA], now }).verify(signer.sign(grant).token).tid, undefined, 'a grant without one has none')
  for (const bad of ['short', `${wire.slice(0, 42)}B`, 42]) {
    const forged = forge({ alg: 'HS256', typ: 'JWT', kid: 'a' }, { iss: 'gw-1', ...grant, tid: bad, iat: t0, exp: t0 + 60 },
      (input) => createHmac('sha256', secretA).update(input).digest('base64url'))
    t.equal(reasonOf(() => createStreamVerifier({ keys: [keyA], now }).verify(forged)), 'malformed', `tid ${JSON.stringify(bad)} is malformed`)
  }
})

t.test('the claims are the bytes JSON.stringify makes of them, in order, escapes and all', async (t) => {
  const signer = createStreamSigner({ keys: [keyA], issuer: 'gw "1"', now })
  const tid = createHmac('sha256', 'any').update('a token').digest('hex')
  const odd: StreamGrant = { aud: 'node-"x"', sub: 'UIN\\1/cam-é\u2028', fmt: 'ws-fmp4', own: 'acct-\u0001', jti: 'j' }
  const cases: StreamGrant[] = [
    grant,
    { ...grant, cip: '2001:db8::1' },
    { ...grant, sid: 'Zm9vYmFyYmF6cXV4cXV1eA', tid, tms: 3 },
    { ...grant, cip: '1.2.3.4', sid: 'Zm9vYmFyYmF6cXV4cXV1eA', tid, tms: 0 },
    odd,
    { ...odd, tid, tms: 12 },
    { ...grant, aud: 'tab\there', sub: 'line\nbreak\u001f\u007f', own: 'pair 😀', jti: 'lone \ud800 \udfff' }
  ]
  for (const [i, each] of cases.entries()) {
    const expected: Record<string, unknown> = { iss: 'gw "1"', aud: each.aud, sub: each.sub, fmt: each.fmt, own: each.own, jti: each.jti, iat: t0, exp: t0 + 60 }
    if (each.cip !== undefined) expected.cip = each.cip
    if (each.sid !== undefined) expected.sid = each.sid
    if (each.tid !== undefined) expected.tid = Buffer.from(each.tid, 'hex').toString('base64url')
    if (each.tms !== undefined) expected.tms = each.tms
    const token = signer.sign(each).token
    t.equal(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString(), JSON.stringify(expected), `case ${i}`)
    const input = token.slice(0, token.lastIndexOf('.'))
    t.equal(token.slice(token.lastIndexOf('.') + 1), createHmac('sha256', secretA).update(input).digest('base64url'), 'HS256 over header.claims')
  }
})
