// The keys that sign and verify stream URLs (docs/design.md section 3), from one spec string:
// `KID=ALG:MATERIAL[,KID=ALG:MATERIAL…]`. The first key signs; every key verifies.
// Key objects are made once here: jsonwebtoken and node:crypto are ~60x faster with a KeyObject
// than with a string secret they must import on every call.

import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'

export type SigningAlgorithm = 'HS256' | 'ES256'

export interface SigningKey {
  kid: string
  alg: SigningAlgorithm
  /** null: a public key, which only verifies. */
  signKey: KeyObject | null
  verifyKey: KeyObject
}

export interface ParseSigningKeysOptions {
  readFile?: (path: string) => string
}

const minSecretBytes = 32
const kidPattern = /^[A-Za-z0-9._-]{1,64}$/

export function parseSigningKeys (spec: string, options: ParseSigningKeysOptions = {}): SigningKey[] {
  const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'))
  if (spec.trim() === '') throw new Error('signing keys: none given; expected KID=ALG:MATERIAL[,…]')
  const keys: SigningKey[] = []
  spec.split(',').forEach((raw, index) => {
    const key = parseEntry(raw.trim(), index + 1, readFile)
    if (keys.some((other) => other.kid === key.kid)) {
      throw new Error(`signing key ${index + 1} (kid '${key.kid}'): the kid is listed twice`)
    }
    keys.push(key)
  })
  const first = keys[0]
  if (first !== undefined && first.signKey === null) {
    throw new Error(`signing key 1 (kid '${first.kid}'): the first key signs, but it is a public key; list a private key or a secret first`)
  }
  return keys
}

// Messages name an entry by position and kid only: the rest of an entry may be a secret.
function parseEntry (entry: string, position: number, readFile: (path: string) => string): SigningKey {
  const where = `signing key ${position}`
  if (entry === '') throw new Error(`${where}: empty entry; expected KID=ALG:MATERIAL`)
  const eq = entry.indexOf('=')
  const colon = entry.indexOf(':', eq + 1)
  if (eq < 0 || colon < 0) throw new Error(`${where}: expected KID=ALG:MATERIAL`)
  const kid = entry.slice(0, eq).trim()
  if (!kidPattern.test(kid)) throw new Error(`${where}: the kid must be 1 to 64 of A-Z a-z 0-9 . _ -`)
  const named = `${where} (kid '${kid}')`
  const alg = entry.slice(eq + 1, colon).trim()
  const material = entry.slice(colon + 1).trim()
  if (material === '') throw new Error(`${named}: no key material after '${alg}:'`)
  if (alg === 'HS256') return { kid, alg, ...secretKey(material, named) }
  if (alg === 'ES256') return { kid, alg, ...ecKey(material, named, readFile) }
  const shown = /^[A-Za-z0-9]{1,16}$/.test(alg) ? `'${alg}'` : 'given'
  throw new Error(`${named}: the algorithm ${shown} is not supported; use HS256 or ES256`)
}

function secretKey (material: string, named: string): { signKey: KeyObject, verifyKey: KeyObject } {
  let secret: Buffer
  if (material.startsWith('base64:')) {
    const encoded = material.slice('base64:'.length)
    // Buffer.from skips characters it does not know; a typo would silently shorten the secret.
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) throw new Error(`${named}: the base64 secret holds characters outside base64`)
    secret = Buffer.from(encoded, 'base64')
  } else {
    secret = Buffer.from(material, 'utf8')
  }
  if (secret.length < minSecretBytes) {
    throw new Error(`${named}: the HS256 secret is ${secret.length} bytes; at least ${minSecretBytes} are required`)
  }
  const key = createSecretKey(secret)
  return { signKey: key, verifyKey: key }
}

function ecKey (path: string, named: string, readFile: (path: string) => string): { signKey: KeyObject | null, verifyKey: KeyObject } {
  let pem: string
  try {
    pem = readFile(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new Error(`${named}: cannot read the ES256 key file ${path}${code === undefined ? '' : ` (${code})`}`)
  }
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(pem)) {
    throw new Error(`${named}: the key in ${path} is encrypted; give an unencrypted PEM`)
  }
  const isPrivate = /-----BEGIN (?:EC )?PRIVATE KEY-----/.test(pem)
  let signKey: KeyObject | null
  let verifyKey: KeyObject
  try {
    signKey = isPrivate ? createPrivateKey(pem) : null
    verifyKey = signKey === null ? createPublicKey(pem) : createPublicKey(signKey)
  } catch {
    throw new Error(`${named}: ${path} holds no PEM ${isPrivate ? 'private' : 'public'} key that node:crypto can read`)
  }
  const type = verifyKey.asymmetricKeyType
  const curve = verifyKey.asymmetricKeyDetails?.namedCurve
  if (type !== 'ec') throw new Error(`${named}: ${path} holds a key of type ${type ?? 'unknown'}; ES256 needs an EC P-256 key`)
  if (curve !== 'prime256v1') throw new Error(`${named}: ${path} holds a key on curve ${curve ?? 'unknown'}; ES256 needs P-256 (prime256v1)`)
  return { signKey, verifyKey }
}
