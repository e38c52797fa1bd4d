// The signed part of the URLs of an HLS session on geogate itself: its multivariant playlist and
// its steering manifest (src/handlers/stream/steering-routes.ts). Like a grant it sits in the
// path, so that the relative steering URI a player resolves against the playlist carries it.
//
// It names the session (sid), whose stream it is (owner, SERVER/CAMERA, the access token's id,
// the client address when grants are bound to it), the nodes offered as pathways, in the order
// first given, and when the session was answered (st). Two times bound it: the multivariant
// playlist, which signs the pathways' grants, is served only within the grant lifetime after
// st (the grants' exp bounds when a session may start, and so does this); the steering manifest
// is answered while the token is within its own lease (exp), and each answer hands the player a
// renewed token in RELOAD-URI, so a player that keeps asking keeps its manifest and one that
// stopped for longer than the lease (a session over) is told 410.
//
// A compact JWS with the gateway's signing keys (kid in the header, the first key signs, every
// key verifies), typed `geogate-steering`, and without a grant's aud or fmt: a node never
// takes it as a grant, nor geogate a grant as one of these. Signed and checked with node:crypto
// directly, and a checked token's claims are remembered by its text, since a player shows the
// same one for a while: the steering manifest is answered on the order of a bare route.

import { createHmac, sign as signData, timingSafeEqual, verify as verifyData } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { SigningKey } from './keys.js'

export interface SteeringSession {
  /** The session id the pathways' grants share. */
  sid: string
  own: string
  /** SERVER/CAMERA. */
  sub: string
  /** The pathway nodes' ids, in the order first offered (the chosen node first). */
  pw: string[]
  tid?: string
  cip?: string
}

export interface SteeringClaims extends SteeringSession {
  iss: string
  /** When the session was answered (s): the multivariant playlist is served for the grant lifetime after. */
  st: number
  iat: number
  /** The end of this token's lease for the steering manifest (s). */
  exp: number
}

export type SteeringFailure = 'malformed' | 'unknown_key' | 'bad_signature'

export class SteeringTokenError extends Error {
  readonly reason: SteeringFailure
  constructor (reason: SteeringFailure) {
    super(`steering URL rejected: ${reason.replaceAll('_', ' ')}`)
    this.name = 'SteeringTokenError'
    this.reason = reason
  }
}

export interface SteeringTokens {
  /** A token for a session answered now. */
  issue: (session: SteeringSession) => string
  /** The same session's token with its lease renewed from now. */
  renew: (claims: SteeringClaims) => string
  /** The claims of a token geogate signed; throws SteeringTokenError. Times are the caller's to judge. */
  read: (token: string) => SteeringClaims
  /** The lease of a token (s). */
  readonly leaseS: number
  /** How long after a session was answered its multivariant playlist is served: the grants' lifetime (s). */
  readonly startS: number
}

export interface SteeringTokenOptions {
  keys: SigningKey[]
  issuer: string
  /** How long a token is good for the steering manifest after it was issued or renewed (s). */
  leaseS: number
  /** How long after a session was answered its multivariant playlist is served (s): SIG_TTL_S. */
  startS: number
  now?: () => number
  /** Tokens whose claims are remembered once checked; default 10,000. */
  rememberMax?: number
}

const TYPE = 'geogate-steering'
const SAFE = /^[A-Za-z0-9_-]+$/

export function createSteeringTokens (options: SteeringTokenOptions): SteeringTokens {
  const key = options.keys[0]
  if (key === undefined) throw new TypeError('keys must hold at least one key')
  const signKey = key.signKey
  if (signKey === null) throw new TypeError(`the signing key '${key.kid}' is a public key and cannot sign`)
  const { issuer, leaseS } = options
  if (!Number.isInteger(leaseS) || leaseS < 1) throw new TypeError('leaseS must be a positive integer')
  const now = options.now ?? Date.now
  const byKid = new Map(options.keys.map((k) => [k.kid, k]))
  const remembered = new LRUCache<string, SteeringClaims>({ max: options.rememberMax ?? 10_000 })

  const header = b64(JSON.stringify({ alg: key.alg, typ: TYPE, kid: key.kid }))

  function signature (k: SigningKey, input: string): string {
    if (k.alg === 'HS256') return createHmac('sha256', k.signKey as NonNullable<SigningKey['signKey']>).update(input).digest('base64url')
    return signData('sha256', Buffer.from(input), { key: k.signKey as NonNullable<SigningKey['signKey']>, dsaEncoding: 'ieee-p1363' }).toString('base64url')
  }

  function signed (claims: SteeringClaims): string {
    const input = `${header}.${b64(JSON.stringify(claims))}`
    return `${input}.${signature(key as SigningKey, input)}`
  }

  function lease (session: SteeringSession, st: number): SteeringClaims {
    const iat = Math.floor(now() / 1000)
    const claims: SteeringClaims = { iss: issuer, sid: session.sid, own: session.own, sub: session.sub, pw: session.pw, st: st < 0 ? iat : st, iat, exp: iat + leaseS }
    if (session.tid !== undefined) claims.tid = session.tid
    if (session.cip !== undefined) claims.cip = session.cip
    return claims
  }

  function checked (token: string): SteeringClaims {
    const [head = '', body = '', sig = '', ...rest] = token.split('.')
    if (rest.length > 0 || !SAFE.test(head) || !SAFE.test(body) || !SAFE.test(sig)) throw new SteeringTokenError('malformed')
    let parsedHeader: unknown
    try { parsedHeader = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) } catch { throw new SteeringTokenError('malformed') }
    const { kid, typ, alg } = (typeof parsedHeader === 'object' && parsedHeader !== null ? parsedHeader : {}) as Record<string, unknown>
    if (typ !== TYPE) throw new SteeringTokenError('malformed')
    const k = typeof kid === 'string' ? byKid.get(kid) : undefined
    if (k === undefined) throw new SteeringTokenError('unknown_key')
    // Pinned by the kid: a header cannot pick another algorithm.
    if (alg !== k.alg) throw new SteeringTokenError('bad_signature')
    const input = `${head}.${body}`
    if (!goodSignature(k, input, sig)) throw new SteeringTokenError('bad_signature')
    let payload: unknown
    try { payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) } catch { throw new SteeringTokenError('malformed') }
    const claims = steeringClaims(payload)
    if (claims === undefined) throw new SteeringTokenError('malformed')
    return claims
  }

  function goodSignature (k: SigningKey, input: string, sig: string): boolean {
    const given = Buffer.from(sig, 'base64url')
    if (k.alg === 'HS256') {
      const expected = createHmac('sha256', k.verifyKey).update(input).digest()
      return given.length === expected.length && timingSafeEqual(given, expected)
    }
    return verifyData('sha256', Buffer.from(input), { key: k.verifyKey, dsaEncoding: 'ieee-p1363' }, given)
  }

  return {
    issue: (session) => signed(lease(session, -1)),
    renew: (claims) => signed(lease(claims, claims.st)),
    read (token) {
      const known = remembered.get(token)
      if (known !== undefined) return known
      const claims = Object.freeze(checked(token)) as SteeringClaims
      remembered.set(token, claims)
      return claims
    },
    leaseS,
    startS: options.startS
  }
}

const ID = /^[A-Za-z0-9._:-]{1,64}$/

function steeringClaims (payload: unknown): SteeringClaims | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined
  const p = payload as Record<string, unknown>
  if (typeof p.iss !== 'string' || typeof p.sid !== 'string' || typeof p.own !== 'string' || typeof p.sub !== 'string' ||
    !Array.isArray(p.pw) || p.pw.length === 0 || p.pw.length > 16 || !p.pw.every((id) => typeof id === 'string' && ID.test(id)) ||
    typeof p.st !== 'number' || typeof p.iat !== 'number' || typeof p.exp !== 'number' ||
    (p.tid !== undefined && typeof p.tid !== 'string') || (p.cip !== undefined && typeof p.cip !== 'string')) {
    return undefined
  }
  const claims: SteeringClaims = { iss: p.iss, sid: p.sid, own: p.own, sub: p.sub, pw: p.pw as string[], st: p.st, iat: p.iat, exp: p.exp }
  if (typeof p.tid === 'string') claims.tid = p.tid
  if (typeof p.cip === 'string') claims.cip = p.cip
  return claims
}

function b64 (text: string): string {
  return Buffer.from(text).toString('base64url')
}
