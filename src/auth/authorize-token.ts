// The auth-server's decision: who owns this token, and may it do this to that object.

import type { Collection } from 'mongodb'
import { gatewayError } from '../errors.js'
import type { TokenDoc } from '../store/documents.js'
import { grantAllows, type GrantRequest } from './grants.js'
import { hashToken } from './token-hash.js'

export interface TokenOwner {
  owner_type: string
  owner_id: string
  expires_at: Date | null
}

/**
 * Resolves to the token's owner when a grant allows the request; rejects with GW_TOKEN_INVALID
 * for an unknown or expired token, GW_FORBIDDEN for a token without the right, and
 * GW_DEPENDENCY_DOWN when the store cannot answer.
 */
export async function authorizeToken (
  tokens: Collection<TokenDoc>,
  token: string,
  request: GrantRequest,
  now: number
): Promise<TokenOwner> {
  let doc: TokenDoc | null
  try {
    doc = await tokens.findOne(
      { _id: hashToken(token) },
      { projection: { owner_type: 1, owner_id: 1, grants: 1, expires_at: 1 } }
    )
  } catch (err) {
    throw gatewayError('GW_DEPENDENCY_DOWN', 'the token store did not answer', { cause: err })
  }
  if (doc === null) throw gatewayError('GW_TOKEN_INVALID')
  const expiresAt = doc.expires_at ?? null
  // Anything but a Date or null in expires_at is a document we cannot trust: fail closed.
  if (expiresAt !== null && (!(expiresAt instanceof Date) || !(expiresAt.getTime() > now))) {
    throw gatewayError('GW_TOKEN_INVALID')
  }
  if (!Array.isArray(doc.grants) || !grantAllows(doc.grants, request)) {
    throw gatewayError('GW_FORBIDDEN')
  }
  return { owner_type: doc.owner_type, owner_id: doc.owner_id, expires_at: expiresAt }
}
