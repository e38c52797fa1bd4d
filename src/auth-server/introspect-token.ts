// The auth-server's introspection (after RFC 7662): everything a token may do, in one answer,
// so that a gateway asks once per token and decides each object itself with grantAllows.

import { findLiveToken, findLiveTokens, type LiveToken } from './live-token.js'
import type { Collection } from 'mongodb'
import type { Grant, TokenDoc } from '../store/documents.js'

export type Introspection =
  | { active: false }
  | {
    active: true
    owner_type: string
    owner_id: string
    grants: Grant[]
    /** When the token expires, in seconds since the epoch (RFC 7662 `exp`); null: never. */
    exp: number | null
    /** The most viewers the token may feed at once; null: no limit of its own. */
    max_sessions: number | null
  }

/**
 * What the token may do; `{active: false}` for an unknown or expired token (or one whose
 * document cannot be trusted). Rejects with GW_DEPENDENCY_DOWN when the store cannot answer.
 */
export async function introspectToken (tokens: Collection<TokenDoc>, token: string, now: number): Promise<Introspection> {
  return introspection(await findLiveToken(tokens, token, now))
}

/** introspectToken for many tokens with one store query, answered in their order. */
export async function introspectTokens (tokens: Collection<TokenDoc>, list: readonly string[], now: number): Promise<Introspection[]> {
  return (await findLiveTokens(tokens, list, now)).map(introspection)
}

function introspection (live: LiveToken | null): Introspection {
  if (live === null) return { active: false }
  const { doc, expiresAt } = live
  return {
    active: true,
    owner_type: doc.owner_type,
    owner_id: doc.owner_id,
    // Malformed grants allow nothing (grantAllows skips them); they are not sent.
    grants: Array.isArray(doc.grants) ? doc.grants.filter(wellFormed).map(({ object_type: t, object_id: id, rights }) => ({ object_type: t, object_id: id, rights })) : [],
    // Rounded down: a gateway may stop trusting the token a little early, never late.
    exp: expiresAt === null ? null : Math.floor(expiresAt.getTime() / 1000),
    max_sessions: doc.max_sessions ?? null
  }
}

function wellFormed (grant: unknown): grant is Grant {
  if (typeof grant !== 'object' || grant === null) return false
  const { object_type: type, object_id: id, rights } = grant as Record<string, unknown>
  return typeof type === 'string' && typeof id === 'string' && Array.isArray(rights) && rights.every((r) => typeof r === 'string')
}
