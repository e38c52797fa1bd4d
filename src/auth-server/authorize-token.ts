// The auth-server's decision: who owns this token, and may it do this to that object.

import { findLiveToken } from './live-token.js'
import type { Collection } from 'mongodb'
import { gatewayError } from '../errors.js'
import type { TokenDoc } from '../store/documents.js'
import { grantAllows, type GrantRequest } from '../auth/grants.js'

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
  const live = await findLiveToken(tokens, token, now)
  if (live === null) throw gatewayError('GW_TOKEN_INVALID')
  const { doc, expiresAt } = live
  if (!Array.isArray(doc.grants) || !grantAllows(doc.grants, request)) {
    throw gatewayError('GW_FORBIDDEN')
  }
  return { owner_type: doc.owner_type, owner_id: doc.owner_id, expires_at: expiresAt }
}
