// Signed calls between geogate's own processes (docs/design.md section 1), as Licode's Nuve signs every
// service's request: the caller names itself, the time and a nonce, and proves it holds the
// key by an HMAC-SHA256 over the request. The resolver and the auth-server answer only
// such calls; the gateway signs every call it makes.
//
// One header carries everything (docs/services.md, "Signed service calls"):
//
//   X-Geogate-Signature: v1 id=<service id>,ts=<unix seconds>,nonce=<nonce>,sig=<64 hex>
//
// sig = hex(HMAC-SHA256(secret, "v1\n" + id + "\n" + ts + "\n" + nonce + "\n" + METHOD + "\n" +
//   path with query, as sent + "\n" + hex(sha256(body))))

import { createHmac, createSecretKey, hash, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto'

export const SERVICE_SIGNATURE_HEADER = 'x-geogate-signature'

export interface ServiceKey {
  /** Who calls: named in every signature, and what the called service logs. */
  id: string
  secret: string
}

const ID = /^[A-Za-z0-9._-]{1,64}$/
const MIN_SECRET = 32
const MAX_SECRET = 512

/**
 * `id:secret,id:secret,…`. An id may be listed more than once: each of its secrets verifies,
 * which is how a key is rotated without the caller changing its name. The first entry signs.
 */
export function parseServiceKeys (raw: string): ServiceKey[] {
  const keys: ServiceKey[] = []
  for (const entry of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const colon = entry.indexOf(':')
    if (colon < 0) throw new Error(`each key must be id:secret, got one without a colon (${JSON.stringify(entry.slice(0, 64))}…)`)
    const id = entry.slice(0, colon)
    const secret = entry.slice(colon + 1)
    if (!ID.test(id)) throw new Error(`a service id must be 1–64 of A-Z a-z 0-9 . _ -, got ${JSON.stringify(id.slice(0, 80))}`)
    if (secret.length < MIN_SECRET || secret.length > MAX_SECRET) throw new Error(`the secret of ${id} must be ${MIN_SECRET}–${MAX_SECRET} characters, got ${secret.length}`)
    if (/\s/.test(secret)) throw new Error(`the secret of ${id} holds whitespace`)
    if (keys.some((k) => k.id === id && k.secret === secret)) throw new Error(`the key of ${id} is listed twice`)
    keys.push({ id, secret })
  }
  return keys
}

/** A 32-byte random key for `id`, as `geogate dev` makes one for its own processes. */
export function generateServiceKey (id: string): ServiceKey {
  return { id, secret: randomBytes(32).toString('hex') }
}

export function formatServiceKeys (keys: ServiceKey[]): string {
  return keys.map((k) => `${k.id}:${k.secret}`).join(',')
}

/** hex(sha256('')): the body digest of a request without a body. */
export const EMPTY_BODY_DIGEST = hash('sha256', '', 'hex')

export function bodyDigest (body: string | Buffer | undefined): string {
  if (body === undefined || body.length === 0) return EMPTY_BODY_DIGEST
  // The one-shot hash: a third of a Hash object's cost for a body this small.
  return hash('sha256', body, 'hex')
}

function hmacHex (key: KeyObject, id: string, ts: string, nonce: string, method: string, path: string, digest: string): string {
  return createHmac('sha256', key).update(`v1\n${id}\n${ts}\n${nonce}\n${method}\n${path}\n${digest}`).digest('hex')
}

export interface ServiceSignerOptions {
  now?: () => number
}

/** The header a call needs: (method, path with query, body) → { 'x-geogate-signature': … }. */
export type SignRequest = (method: string, path: string, body?: string) => Record<string, string>

export function createServiceSigner (key: ServiceKey, options: ServiceSignerOptions = {}): SignRequest {
  const now = options.now ?? Date.now
  // Made once: a KeyObject spares the HMAC a conversion of the secret per call.
  const secret = createSecretKey(Buffer.from(key.secret, 'utf8'))
  // A nonce needs only to be unique, not unguessable (the HMAC covers it): a random prefix
  // per signer and a counter cost less than random bytes per call.
  const prefix = randomBytes(8).toString('hex')
  let counter = 0
  return (method, path, body) => {
    counter = (counter + 1) % 0x1_0000_0000_0000
    const nonce = prefix + counter.toString(16).padStart(16, '0')
    const ts = String(Math.floor(now() / 1000))
    const sig = hmacHex(secret, key.id, ts, nonce, method, path, bodyDigest(body))
    return { [SERVICE_SIGNATURE_HEADER]: `v1 id=${key.id},ts=${ts},nonce=${nonce},sig=${sig}` }
  }
}

/** Why a call is refused; each is a 401 GW_SERVICE_UNAUTHORIZED. */
export type RefusalReason = 'missing' | 'malformed' | 'unknown' | 'stale' | 'wrong' | 'replayed'

export const refusalMessages: Record<RefusalReason, string> = {
  missing: `the call carries no ${SERVICE_SIGNATURE_HEADER} header`,
  malformed: `the ${SERVICE_SIGNATURE_HEADER} header is malformed`,
  unknown: 'the calling service is unknown or its signature is wrong',
  stale: 'the signature\'s timestamp is too far from this service\'s clock',
  wrong: 'the calling service is unknown or its signature is wrong',
  replayed: 'the signature\'s nonce was used before'
}

/** A signature header as read, before it is checked against the request. */
export interface SignatureClaim {
  readonly id: string
  readonly ts: string
  readonly nonce: string
  readonly sig: string
  /** When the timestamp stops being accepted (ms since the epoch): how long the nonce must be remembered. */
  readonly acceptedUntil: number
}

export interface ServiceVerifierOptions {
  keys: ServiceKey[]
  /** The most a timestamp may differ from now (s), either way. */
  clockSkewS: number
  now?: () => number
}

export interface ServiceVerifier {
  /** Reads the header and checks the caller and the time: what needs no body. */
  read: (header: string | string[] | undefined) => SignatureClaim | RefusalReason
  /** Checks the HMAC over the request; true when it holds. */
  matches: (claim: SignatureClaim, method: string, path: string, digest: string) => boolean
}

// Strict, one order, bounded lengths: anything else (truncated, non-hex, enormous, two headers
// joined by a comma) fails this before any work is done for it.
const HEADER = /^v1 id=([A-Za-z0-9._-]{1,64}),ts=(\d{1,12}),nonce=([A-Za-z0-9_-]{16,64}),sig=([0-9a-f]{64})$/
const MAX_HEADER = 256

export function createServiceVerifier (options: ServiceVerifierOptions): ServiceVerifier {
  if (options.keys.length === 0) throw new TypeError('a service verifier needs at least one key')
  if (!Number.isInteger(options.clockSkewS) || options.clockSkewS < 1) throw new TypeError('clockSkewS must be a positive whole number of seconds')
  const now = options.now ?? Date.now
  const skewMs = options.clockSkewS * 1000
  const secrets = new Map<string, KeyObject[]>()
  for (const key of options.keys) {
    const list = secrets.get(key.id) ?? []
    list.push(createSecretKey(Buffer.from(key.secret, 'utf8')))
    secrets.set(key.id, list)
  }

  return {
    read (header) {
      if (header === undefined || header === '') return 'missing'
      if (typeof header !== 'string' || header.length > MAX_HEADER) return 'malformed'
      const parts = HEADER.exec(header)
      if (parts === null) return 'malformed'
      const [, id = '', ts = '', nonce = '', sig = ''] = parts
      if (!secrets.has(id)) return 'unknown'
      const at = Number(ts) * 1000
      if (Math.abs(now() - at) > skewMs) return 'stale'
      return { id, ts, nonce, sig, acceptedUntil: at + skewMs }
    },
    matches (claim, method, path, digest) {
      const given = Buffer.from(claim.sig, 'hex')
      let ok = false
      // Every secret of the id is tried, so rotation costs one HMAC more only while two are listed.
      for (const key of secrets.get(claim.id) ?? []) {
        const expected = Buffer.from(hmacHex(key, claim.id, claim.ts, claim.nonce, method, path, digest), 'hex')
        if (timingSafeEqual(expected, given)) ok = true
      }
      return ok
    }
  }
}
