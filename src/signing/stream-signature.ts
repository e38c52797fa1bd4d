// The signed part of a redirect URL (docs/design.md section 3): a JWT the streaming node checks before
// it serves a stream. Signing runs on every redirect, so it is a hand-built JWS over a
// precomputed header (about half the cost of jsonwebtoken's sign); verifying runs once per
// play and goes through jsonwebtoken with the algorithm pinned to the key the kid names.
// Grants name their viewer's token, so where viewers have tokens of their own nearly every
// answer is signed afresh: its claims are written out as JSON.stringify would write them,
// without building the object, and a token's id is put in its wire form once per token.

import { randomBytes, sign as signData } from 'node:crypto'
import jwt from 'jsonwebtoken'
import { LRUCache } from 'lru-cache'
import { streamFormats, type StreamFormat } from '../store/documents.js'
import type { SigningKey } from './keys.js'
import { createHs256 } from './hs256.js'

export interface StreamGrant {
  /** The node the URL is for. */
  aud: string
  /** SERVER/CAMERA. */
  sub: string
  fmt: StreamFormat
  /** The owner id. */
  own: string
  /** The grant's own id. */
  jti: string
  /**
   * The viewer's session: the grants of one answer (one per pathway node of an HLS answer)
   * share it, so that a viewer moving between them goes on in one session and one tariff slot.
   * Absent from grants made before it existed: their jti stands for it (sessionOf).
   */
  sid?: string
  /** The client IP, when URLs are bound to it. */
  cip?: string
  /**
   * The id of the access token the grant was made for: its sha256 in hex, as the tokens
   * collection keys it, so that a play can be traced to its token and ended when the token is
   * revoked. On the wire it is the same 32 bytes in base64url (43 characters, not 64).
   */
  tid?: string
  /**
   * The most viewers the token (tid) may feed at once, its max_sessions as the auth-server
   * told it: where the play is admitted, its sessions take one of that many token slots.
   * Absent: no limit.
   */
  tms?: number
}

export interface StreamClaims extends StreamGrant {
  iss: string
  /** Seconds since the epoch. */
  iat: number
  exp: number
}

export interface StreamSignerOptions {
  keys: SigningKey[]
  /** The gateway's id. */
  issuer: string
  ttlSeconds?: number
  now?: () => number
}

export interface StreamSigner {
  /** The kid of the key that signs. */
  readonly keyId: string
  sign: (claims: StreamGrant) => { token: string, expiresAt: number }
}

export function createStreamSigner (options: StreamSignerOptions): StreamSigner {
  const key = options.keys[0]
  if (key === undefined) throw new TypeError('keys must hold at least one key')
  const signKey = key.signKey
  if (signKey === null) throw new TypeError(`the signing key '${key.kid}' is a public key and cannot sign`)
  const ttl = options.ttlSeconds ?? 60
  if (!Number.isInteger(ttl) || ttl < 1) throw new TypeError('ttlSeconds must be a positive integer')
  const now = options.now ?? Date.now
  const { issuer } = options

  const header = base64url(JSON.stringify({ alg: key.alg, typ: 'JWT', kid: key.kid }))
  const signature = key.alg === 'HS256'
    ? createHs256(signKey)
    // JWS wants ECDSA signatures as r||s, not DER.
    : (input: string) => signData('sha256', Buffer.from(input), { key: signKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')
  const opening = `{"iss":${JSON.stringify(issuer)},"aud":`
  const wireIds = new Map<string, string>()
  const wireId = (hex: string): string => {
    let wire = wireIds.get(hex)
    if (wire === undefined) {
      // Bounded as the per-second memos are: past this many tokens, start afresh.
      if (wireIds.size >= WIRE_IDS_KEPT) wireIds.clear()
      wire = tokenIdOnTheWire(hex)
      wireIds.set(hex, wire)
    }
    return wire
  }

  return {
    keyId: key.kid,
    sign (grant) {
      const iat = Math.floor(now() / 1000)
      const exp = iat + ttl
      // StreamClaims' members in its order (iss, aud, sub, fmt, own, jti, iat, exp, then the
      // optional ones), each written as JSON.stringify writes it: the same bytes as the object.
      let claims = `${opening}${jsonString(grant.aud)},"sub":${jsonString(grant.sub)},"fmt":${jsonString(grant.fmt)},"own":${jsonString(grant.own)},"jti":${jsonString(grant.jti)},"iat":${iat},"exp":${exp}`
      if (grant.cip !== undefined) claims += `,"cip":${jsonString(grant.cip)}`
      if (grant.sid !== undefined) claims += `,"sid":${jsonString(grant.sid)}`
      if (grant.tid !== undefined) claims += `,"tid":"${wireId(grant.tid)}"`
      if (grant.tms !== undefined) claims += `,"tms":${JSON.stringify(grant.tms)}`
      const input = `${header}.${base64url(`${claims}}`)}`
      return { token: `${input}.${signature(input)}`, expiresAt: exp * 1000 }
    }
  }
}

/** A string JSON.stringify writes as it is, between quotes: nothing it escapes. */
// eslint-disable-next-line no-control-regex -- the control characters are what JSON escapes
const VERBATIM_IN_JSON = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/

/**
 * A string as JSON.stringify writes it. Ids, formats and addresses are written as they are;
 * checking that is several times cheaper than a JSON.stringify call, and a grant made six.
 */
function jsonString (value: string): string {
  return VERBATIM_IN_JSON.test(value) ? `"${value}"` : JSON.stringify(value)
}

/** Token ids kept in their wire form by a signer (each 64 + 43 characters). */
const WIRE_IDS_KEPT = 10_000

export type SignatureFailure =
  'malformed' | 'bad_signature' | 'unknown_key' | 'expired' | 'wrong_audience' | 'wrong_subject' | 'wrong_client_ip' |
  'lifetime_too_long' | 'issued_ahead' | 'unknown_issuer'

export class SignatureError extends Error {
  readonly reason: SignatureFailure

  constructor (reason: SignatureFailure, message?: string, options?: { cause?: unknown }) {
    super(message ?? `stream signature rejected: ${reason.replaceAll('_', ' ')}`, options)
    this.name = 'SignatureError'
    this.reason = reason
  }
}

export interface StreamVerifierOptions {
  keys: SigningKey[]
  now?: () => number
  /** Seconds of clock difference between gateway and node to forgive. Default 0. */
  clockToleranceSeconds?: number
  /**
   * The longest lifetime (exp − iat) a grant may have, in seconds. A key that leaks or a
   * gateway misconfigured must not mint grants good for years. Default 300.
   */
  maxLifetimeSeconds?: number
  /** How far ahead of this clock a grant's iat may be, in seconds. Default 5. */
  maxIssuedAheadSeconds?: number
  /** The gateway ids whose grants are accepted (iss); undefined or empty: any. */
  issuers?: readonly string[]
  /**
   * Grants to remember once their signature has been checked, by their exact text: an HLS
   * player shows one grant with every segment, and the HMAC and JSON parse were most of a
   * segment check's cost. The checks that depend on time or on the request still run on every
   * call; a tampered grant is another text. Default 0: none.
   */
  rememberMax?: number
}

export interface StreamExpectation {
  audience?: string
  subject?: string
  /** Checked only against a token that carries cip. */
  clientIp?: string
  /** Return the claims of a grant past its exp (an HLS session that started in time decides). */
  allowExpired?: boolean
}

export interface StreamVerifier {
  verify: (token: string, expect?: StreamExpectation) => StreamClaims
}

export function createStreamVerifier (options: StreamVerifierOptions): StreamVerifier {
  if (options.keys.length === 0) throw new TypeError('keys must hold at least one key')
  const byKid = new Map(options.keys.map((key) => [key.kid, key]))
  const now = options.now ?? Date.now
  const clockTolerance = options.clockToleranceSeconds ?? 0
  if (!Number.isFinite(clockTolerance) || clockTolerance < 0) throw new TypeError('clockToleranceSeconds must be zero or more')
  const maxLifetime = options.maxLifetimeSeconds ?? 300
  if (!Number.isFinite(maxLifetime) || maxLifetime < 1) throw new TypeError('maxLifetimeSeconds must be one or more')
  const maxAhead = options.maxIssuedAheadSeconds ?? 5
  if (!Number.isFinite(maxAhead) || maxAhead < 0) throw new TypeError('maxIssuedAheadSeconds must be zero or more')
  const issuers = options.issuers !== undefined && options.issuers.length > 0 ? new Set(options.issuers) : undefined
  const rememberMax = options.rememberMax ?? 0
  const remembered = rememberMax > 0 ? new LRUCache<string, StreamClaims>({ max: rememberMax }) : undefined

  /** The claims of a grant whose signature, shape, lifetime and issuer are good. */
  function signedClaims (token: string, nowSeconds: number): StreamClaims {
    const known = remembered?.get(token)
    if (known !== undefined) return known
    const key = byKid.get(headerKid(token))
    if (key === undefined) throw new SignatureError('unknown_key')
    let payload: unknown
    try {
      payload = jwt.verify(token, key.verifyKey, {
        // Pinned by the kid: a header cannot pick 'none', nor HS256 over an ES256 public key.
        algorithms: [key.alg],
        clockTimestamp: nowSeconds,
        clockTolerance,
        // exp is checked below, where an HLS session may ask for the claims of an expired grant.
        ignoreExpiration: true
      })
    } catch (err) {
      throw new SignatureError(failureOf(err), undefined, { cause: err })
    }
    const claims = toStreamClaims(payload)
    if (claims === undefined) throw new SignatureError('malformed', 'stream signature rejected: claims missing or of the wrong type')
    if (claims.exp - claims.iat > maxLifetime) throw new SignatureError('lifetime_too_long', 'stream signature rejected: its lifetime exceeds the configured maximum')
    if (issuers !== undefined && !issuers.has(claims.iss)) throw new SignatureError('unknown_issuer', 'stream signature rejected: issued by an unknown gateway')
    remembered?.set(token, Object.freeze(claims))
    return claims
  }

  return {
    verify (token, expect = {}) {
      const nowSeconds = Math.floor(now() / 1000)
      const claims = signedClaims(token, nowSeconds)
      if (claims.iat > nowSeconds + maxAhead) throw new SignatureError('issued_ahead', 'stream signature rejected: issued in the future')
      if (expect.allowExpired !== true && nowSeconds >= claims.exp + clockTolerance) throw new SignatureError('expired', 'stream signature rejected: expired')
      if (expect.audience !== undefined && claims.aud !== expect.audience) throw new SignatureError('wrong_audience')
      if (expect.subject !== undefined && claims.sub !== expect.subject) throw new SignatureError('wrong_subject')
      if (expect.clientIp !== undefined && claims.cip !== undefined && plainIp(claims.cip) !== plainIp(expect.clientIp)) {
        throw new SignatureError('wrong_client_ip')
      }
      return claims
    }
  }
}

function headerKid (token: string): string {
  const dot = token.indexOf('.')
  if (dot < 1) throw new SignatureError('malformed')
  let header: unknown
  try {
    header = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'))
  } catch (err) {
    throw new SignatureError('malformed', undefined, { cause: err })
  }
  const kid = typeof header === 'object' && header !== null ? (header as { kid?: unknown }).kid : undefined
  if (typeof kid !== 'string') throw new SignatureError('unknown_key', 'stream signature rejected: the header names no kid')
  return kid
}

const malformedMessages = new Set([
  'jwt malformed', 'invalid token', 'jwt must be provided', 'jwt must be a string', 'invalid exp value', 'invalid nbf value'
])

function failureOf (err: unknown): SignatureFailure {
  if (err instanceof jwt.TokenExpiredError || err instanceof jwt.NotBeforeError) return 'expired'
  if (err instanceof jwt.JsonWebTokenError && malformedMessages.has(err.message)) return 'malformed'
  // A wrong signature, a missing one, or an algorithm the kid does not allow.
  return 'bad_signature'
}

function toStreamClaims (payload: unknown): StreamClaims | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined
  const p = payload as Record<string, unknown>
  if (typeof p.iss !== 'string' || typeof p.aud !== 'string' || typeof p.sub !== 'string' ||
    typeof p.own !== 'string' || typeof p.jti !== 'string' ||
    typeof p.fmt !== 'string' || !(streamFormats as readonly string[]).includes(p.fmt) ||
    typeof p.iat !== 'number' || typeof p.exp !== 'number' ||
    (p.cip !== undefined && typeof p.cip !== 'string') ||
    (p.sid !== undefined && !(typeof p.sid === 'string' && SESSION_ID.test(p.sid))) ||
    (p.tid !== undefined && !(typeof p.tid === 'string' && WIRE_TOKEN_ID.test(p.tid))) ||
    (p.tms !== undefined && !(Number.isSafeInteger(p.tms) && (p.tms as number) >= 0))) {
    return undefined
  }
  const claims: StreamClaims = {
    iss: p.iss, aud: p.aud, sub: p.sub, fmt: p.fmt as StreamFormat, own: p.own, jti: p.jti, iat: p.iat, exp: p.exp
  }
  if (typeof p.cip === 'string') claims.cip = p.cip
  if (typeof p.sid === 'string') claims.sid = p.sid
  if (typeof p.tid === 'string') claims.tid = Buffer.from(p.tid, 'base64url').toString('hex')
  if (typeof p.tms === 'number') claims.tms = p.tms
  return claims
}

/** A session id: what newSessionId makes, or a UUID; never a '/' (it is part of other keys). */
const SESSION_ID = /^[A-Za-z0-9_-]{8,64}$/

/** A new session id: 128 random bits in base64url (22 characters). */
export function newSessionId (): string {
  return randomBytes(16).toString('base64url')
}

/** The session a grant belongs to: its sid, or for a grant without one, its own jti. */
export function sessionOf (claims: Pick<StreamClaims, 'sid' | 'jti'>): string {
  return claims.sid ?? claims.jti
}

/** A sha256 in base64url: 32 bytes, 43 characters, the last of which carries 4 bits. */
const WIRE_TOKEN_ID = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/

function tokenIdOnTheWire (hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64url')
}

/** '::ffff:1.2.3.4' and '1.2.3.4' are one client. */
function plainIp (ip: string): string {
  const lower = ip.toLowerCase()
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower
}

function base64url (text: string): string {
  return Buffer.from(text).toString('base64url')
}
