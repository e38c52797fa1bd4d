// A token's document, when the token is known and has not expired: what /authorize and
// /introspect both start from. The store holds only the token's sha256.

import type { Collection } from 'mongodb'
import { gatewayError } from '../errors.js'
import type { TokenDoc } from '../store/documents.js'
import { hashToken } from './token-hash.js'

export interface LiveToken {
  doc: TokenDoc
  /** null: the token never expires. */
  expiresAt: Date | null
}

/** The live token, or null for an unknown or expired one; GW_DEPENDENCY_DOWN when the store cannot answer. */
export async function findLiveToken (tokens: Collection<TokenDoc>, token: string, now: number): Promise<LiveToken | null> {
  let doc: TokenDoc | null
  try {
    doc = await tokens.findOne(
      { _id: hashToken(token) },
      { projection: { owner_type: 1, owner_id: 1, grants: 1, expires_at: 1 } }
    )
  } catch (err) {
    throw gatewayError('GW_DEPENDENCY_DOWN', 'the token store did not answer', { cause: err })
  }
  if (doc === null) return null
  const expiresAt = doc.expires_at ?? null
  // Anything but a Date or null in expires_at is a document we cannot trust: fail closed.
  if (expiresAt !== null && (!(expiresAt instanceof Date) || !(expiresAt.getTime() > now))) return null
  return { doc, expiresAt }
}
