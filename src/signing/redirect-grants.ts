// Signed grants for redirects, one per distinct set of claims per second.
//
// A signature's claims are fixed to the second (iat, exp), so two redirects of one owner to one
// camera on one node in the same second would differ only in jti. They share one signed URL
// instead: it grants nothing more than either would, expires at the same instant, and plays are
// counted per node and client id, not per jti. HMAC per redirect was the largest cost of a warm
// request; this makes it one per popular stream per second.
//
// HLS grants are the exception, signed afresh each time: an HLS session is one sid from one
// viewer address, so two viewers behind one address sharing a grant would count as one.
// A caller that remembers its grants itself asks for fresh ones: a redirect's grant names the
// viewer's token, and where thousands of viewers each have their own, a look-up here by a key
// made of every claim would nearly always miss.

import { randomUUID } from 'node:crypto'
import { createSecondMemo } from '../cache/second-memo.js'
import type { StreamFormat } from '../store/documents.js'
import type { StreamSigner } from './stream-signature.js'

export interface RedirectClaims {
  aud: string
  sub: string
  fmt: StreamFormat
  own: string
  cip?: string
  /** The access token's id (see StreamGrant.tid). */
  tid?: string
  /** The token's limit of viewers at once (see StreamGrant.tms). */
  tms?: number
  /** The viewer's session, shared by the grants of one HLS answer (see StreamGrant.sid). */
  sid?: string
}

export interface RedirectGrant {
  token: string
  expiresAt: number
  /** The grant's id (the JWT's jti). */
  jti: string
}

export interface RedirectGrants {
  /** The grant for these claims: the one signed for them this second, or a new one. */
  grant: (claims: RedirectClaims) => RedirectGrant
  /**
   * A grant signed now, neither looked up nor kept: for a caller that remembers its grants
   * itself (the stream routes keep each viewer's under the node chosen for the stream).
   */
  fresh: (claims: RedirectClaims) => RedirectGrant
}

/** Entries kept for the current second; a burst over this many distinct claims signs afresh. */
const MAX_ENTRIES = 10_000

export function createRedirectGrants (signer: StreamSigner, now: () => number = Date.now): RedirectGrants {
  const memo = createSecondMemo<RedirectGrant>(now, MAX_ENTRIES)
  const fresh = (claims: RedirectClaims): RedirectGrant => {
    const jti = randomUUID()
    const signed = signer.sign({ ...claims, jti })
    return { token: signed.token, expiresAt: signed.expiresAt, jti }
  }
  return {
    grant (claims) {
      if (claims.fmt === 'hls') return fresh(claims)
      // Ids and formats hold no newline (schema-checked), so the key is unambiguous.
      const key = `${claims.aud}\n${claims.sub}\n${claims.fmt}\n${claims.own}\n${claims.cip ?? ''}\n${claims.tid ?? ''}\n${claims.tms ?? ''}`
      const hit = memo.get(key)
      if (hit !== undefined) return hit
      const signed = fresh(claims)
      memo.set(key, signed)
      return signed
    },
    fresh
  }
}
