// A token's document, when the token is known and has not expired: what /authorize and
// /introspect both start from. The store holds only the token's sha256.

import type { Collection } from 'mongodb'
import { gatewayError } from '../errors.js'
import type { TokenDoc } from '../store/documents.js'
import { hashToken } from '../auth/token-hash.js'

export interface LiveToken {
  doc: TokenDoc
  /** null: the token never expires. */
  expiresAt: Date | null
}

const PROJECTION = { owner_type: 1, owner_id: 1, grants: 1, expires_at: 1, max_sessions: 1 } as const

/** The live token, or null for an unknown or expired one; GW_DEPENDENCY_DOWN when the store cannot answer. */
export async function findLiveToken (tokens: Collection<TokenDoc>, token: string, now: number): Promise<LiveToken | null> {
  let doc: TokenDoc | null
  try {
    doc = await tokens.findOne({ _id: hashToken(token) }, { projection: PROJECTION })
  } catch (err) {
    throw storeDown(err)
  }
  return doc === null ? null : liveToken(doc, now)
}

/**
 * findLiveToken for many tokens with one query (an _id $in), answered in their order: the
 * embedded store scans once for all of them, MongoDB walks its _id index once per token.
 */
export async function findLiveTokens (tokens: Collection<TokenDoc>, list: readonly string[], now: number): Promise<Array<LiveToken | null>> {
  const ids = list.map(hashToken)
  let docs: TokenDoc[]
  try {
    docs = await tokens.find({ _id: { $in: [...new Set(ids)] } }, { projection: PROJECTION }).toArray()
  } catch (err) {
    throw storeDown(err)
  }
  const byId = new Map(docs.map((doc) => [doc._id, doc]))
  return ids.map((id) => {
    const doc = byId.get(id)
    return doc === undefined ? null : liveToken(doc, now)
  })
}

function liveToken (doc: TokenDoc, now: number): LiveToken | null {
  const expiresAt = doc.expires_at ?? null
  // Anything but a Date or null in expires_at is a document we cannot trust: fail closed.
  if (expiresAt !== null && (!(expiresAt instanceof Date) || !(expiresAt.getTime() > now))) return null
  // A limit that is not a count would be read by each gateway its own way: fail closed too.
  const limit = doc.max_sessions ?? null
  if (limit !== null && !(Number.isSafeInteger(limit) && limit >= 0)) return null
  return { doc, expiresAt }
}

function storeDown (err: unknown): Error {
  return gatewayError('GW_DEPENDENCY_DOWN', 'the token store did not answer', { cause: err })
}
