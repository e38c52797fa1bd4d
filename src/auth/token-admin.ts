// Issuing and revoking access tokens; shared by the admin API and the CLI. The store keeps
// only each token's sha256, so a token is shown once, when it is created.

import { randomBytes } from 'node:crypto'
import type { Collection } from 'mongodb'
import type { Grant, TokenDoc } from '../store/documents.js'
import { hashToken } from './token-hash.js'

/** The largest max_sessions a token may be given. */
export const MAX_SESSIONS_LIMIT = 1_000_000

export interface NewToken {
  owner_type: string
  owner_id: string
  grants: Grant[]
  /** Omitted or null: the token never expires. */
  expires_at?: Date | null
  /** The most viewers the token may feed at once; omitted or null: no limit but its tariff's. */
  max_sessions?: number | null
  /** The token to store; omitted: a random 32-byte one. */
  token?: string
}

export async function createToken (
  tokens: Collection<TokenDoc>,
  spec: NewToken
): Promise<{ token: string, doc: TokenDoc }> {
  checkNewToken(spec)
  const token = spec.token ?? randomBytes(32).toString('base64url')
  const doc: TokenDoc = {
    _id: hashToken(token),
    owner_type: spec.owner_type,
    owner_id: spec.owner_id,
    grants: spec.grants.map((grant) => ({ object_type: grant.object_type, object_id: grant.object_id, rights: [...grant.rights] })),
    expires_at: spec.expires_at ?? null,
    ...(spec.max_sessions != null && { max_sessions: spec.max_sessions })
  }
  await tokens.insertOne(doc)
  return { token, doc }
}

/** true when the token existed and is now gone. */
export async function revokeToken (tokens: Collection<TokenDoc>, token: string): Promise<boolean> {
  const result = await tokens.deleteOne({ _id: hashToken(token) })
  return result.deletedCount === 1
}

function checkNewToken (spec: NewToken): void {
  if (typeof spec.owner_type !== 'string' || spec.owner_type === '') throw new TypeError('owner_type must be a non-empty string')
  if (typeof spec.owner_id !== 'string' || spec.owner_id === '') throw new TypeError('owner_id must be a non-empty string')
  if (!Array.isArray(spec.grants)) throw new TypeError('grants must be an array')
  spec.grants.forEach((grant, i) => {
    if (typeof grant.object_type !== 'string' || grant.object_type === '' ||
      typeof grant.object_id !== 'string' || grant.object_id === '' ||
      !Array.isArray(grant.rights) || !grant.rights.every((right) => typeof right === 'string' && right !== '')) {
      throw new TypeError(`grants[${i}] must have object_type, object_id and rights (non-empty strings)`)
    }
  })
  if (spec.expires_at != null && !(spec.expires_at instanceof Date && !Number.isNaN(spec.expires_at.getTime()))) {
    throw new TypeError('expires_at must be a valid Date or null')
  }
  if (spec.max_sessions != null && !(Number.isSafeInteger(spec.max_sessions) && spec.max_sessions >= 1 && spec.max_sessions <= MAX_SESSIONS_LIMIT)) {
    throw new TypeError(`max_sessions must be a whole number from 1 to ${MAX_SESSIONS_LIMIT}, or null`)
  }
  // The gateway and the auth-server accept tokens of 1 to 4096 characters; a longer one could never be used.
  if (spec.token !== undefined && (typeof spec.token !== 'string' || spec.token.length < 1 || spec.token.length > 4096)) {
    throw new TypeError('token must be a string of 1 to 4096 characters')
  }
}
