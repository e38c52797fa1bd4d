import { generateKeyPairSync } from 'node:crypto'
import path from 'node:path'
import t from 'tap'
import { parseSigningKeys } from '../../src/signing/keys.js'

const secret = 'a-secret-of-at-least-32-bytes-long!!'
const secretBytes = Buffer.alloc(32, 0xab)

const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' })
const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
const pem = (key: { export: (o: { type: 'pkcs8' | 'spki' | 'sec1', format: 'pem' }) => string | Buffer }, type: 'pkcs8' | 'spki' | 'sec1') => String(key.export({ type, format: 'pem' }))
const dir = t.testdir({
  'es-private.pem': pem(p256.privateKey, 'pkcs8'),
  'es-sec1.pem': pem(p256.privateKey, 'sec1'),
  'es-public.pem': pem(p256.publicKey, 'spki'),
  'p384.pem': pem(p384.privateKey, 'pkcs8'),
  'rsa.pem': pem(rsa.privateKey, 'pkcs8'),
  'garbage.pem': '-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n',
  'encrypted.pem': String(p256.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }))
})
const file = (name: string) => path.join(dir, name)

t.test('an HS256 secret, plain or base64', async (t) => {
  const keys = parseSigningKeys(`k1=HS256:${secret}, k2=HS256:base64:${secretBytes.toString('base64')}`)
  t.equal(keys.length, 2)
  const [k1, k2] = keys
  t.equal(k1?.kid, 'k1')
  t.equal(k1?.alg, 'HS256')
  t.equal(k1?.signKey?.type, 'secret')
  t.equal(k1?.verifyKey, k1?.signKey, 'one key object both ways')
  t.same(k1?.signKey?.export(), Buffer.from(secret))
  t.same(k2?.signKey?.export(), secretBytes)
})

t.test('an ES256 private key signs and verifies; a public key only verifies', async (t) => {
  const keys = parseSigningKeys(`es=ES256:${file('es-private.pem')},sec1=ES256:${file('es-sec1.pem')},pub=ES256:${file('es-public.pem')}`)
  const [es, sec1, pub] = keys
  t.equal(es?.alg, 'ES256')
  t.equal(es?.signKey?.type, 'private')
  t.equal(es?.verifyKey.type, 'public')
  t.equal(sec1?.signKey?.type, 'private')
  t.equal(pub?.signKey, null)
  t.equal(pub?.verifyKey.type, 'public')
  t.same(pub?.verifyKey.export({ format: 'jwk' }), es?.verifyKey.export({ format: 'jwk' }), 'the public half of the same key')
})

t.test('readFile can be injected', async (t) => {
  const read: string[] = []
  const keys = parseSigningKeys('es=ES256:/virtual/key.pem', { readFile: (p) => { read.push(p); return pem(p256.privateKey, 'pkcs8') } })
  t.same(read, ['/virtual/key.pem'])
  t.equal(keys[0]?.signKey?.type, 'private')
})

t.test('every bad entry is refused, named, and no secret is echoed', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['empty spec', '  ', /none given/],
    ['empty entry', `k1=HS256:${secret},`, /signing key 2: empty entry/],
    ['no =', `HS256:${secret}`, /signing key 1: expected KID=ALG:MATERIAL/],
    ['no alg separator', `k1=${secret}`, /signing key 1: expected KID=ALG:MATERIAL/],
    ['bad kid', `k 1=HS256:${secret}`, /signing key 1: the kid/],
    ['duplicate kid', `k1=HS256:${secret},k1=HS256:${secret}`, /signing key 2 \(kid 'k1'\): the kid is listed twice/],
    ['unknown alg', `k1=RS256:${secret}`, /kid 'k1'\): the algorithm 'RS256' is not supported/],
    ['alg none', `k1=none:${secret}`, /kid 'k1'\): the algorithm 'none' is not supported/],
    ['no material', 'k1=HS256:', /kid 'k1'\): no key material/],
    ['short secret', `k1=HS256:short-secret-${'x'.repeat(18)}`, /kid 'k1'\): the HS256 secret is 31 bytes; at least 32/],
    ['short base64 secret', `k1=HS256:base64:${Buffer.alloc(16).toString('base64')}`, /the HS256 secret is 16 bytes/],
    ['not base64', 'k1=HS256:base64:this is not base64 but is long enough to pass', /outside base64/],
    ['unreadable file', `k1=ES256:${file('missing.pem')}`, /kid 'k1'\): cannot read the ES256 key file .*missing\.pem \(ENOENT\)/],
    ['not a key', `k1=ES256:${file('garbage.pem')}`, /kid 'k1'\): .*garbage\.pem holds no PEM public key/],
    ['wrong curve', `k1=ES256:${file('p384.pem')}`, /kid 'k1'\): .* curve secp384r1; ES256 needs P-256/],
    ['not EC', `k1=ES256:${file('rsa.pem')}`, /kid 'k1'\): .* type rsa; ES256 needs an EC P-256 key/],
    ['encrypted', `k1=ES256:${file('encrypted.pem')}`, /kid 'k1'\): .* is encrypted/],
    ['first key verify-only', `pub=ES256:${file('es-public.pem')},k1=HS256:${secret}`, /kid 'pub'\): the first key signs, but it is a public key/]
  ]
  for (const [name, spec, message] of cases) {
    let error: unknown
    try {
      parseSigningKeys(spec)
    } catch (err) {
      error = err
    }
    t.ok(error instanceof Error, `${name}: throws`)
    t.match((error as Error).message, message, name)
    t.notMatch((error as Error).message, secret, `${name}: the secret is not in the message`)
    t.notMatch((error as Error).message, 'short-secret', `${name}: nor a short one`)
  }
})
