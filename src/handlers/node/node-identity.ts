// Which node is calling a hook. Nodes name themselves with `?node=<id>` in the hook URL and
// prove it with their heartbeat key, as `?key=<key>` (SRS and nginx-rtmp cannot set headers)
// or as `Authorization: Bearer <key>`. The store holds only the key's sha256.

import type { FastifyRequest } from 'fastify'
import { timingSafeEqual } from 'node:crypto'
import { hashToken } from '../../auth/token-hash.js'
import { gatewayError } from '../../errors.js'
import { bearerToken } from '../../http/bearer.js'
import type { Collections } from '../../store/mongo.js'

export interface HookNode {
  id: string
  patterns: string[]
}

/** The key from the query, else from a bearer header; undefined when neither is sent. */
export function nodeKeyOf (request: FastifyRequest, queryKey: string | undefined): string | undefined {
  if (queryKey !== undefined) return queryKey
  return bearerToken(request.headers.authorization, 512)
}

export async function authenticateNode (nodes: Collections['nodes'], id: string, key: string | undefined): Promise<HookNode> {
  if (key === undefined) throw gatewayError('GW_TOKEN_MISSING', 'send the node key as ?key= in the hook URL or as Authorization: Bearer')
  let node
  try {
    node = await nodes.findOne({ _id: id }, { projection: { key_hash: 1, patterns: 1 } })
  } catch (err) {
    throw gatewayError('GW_DEPENDENCY_DOWN', 'the node store is unreachable', { cause: err })
  }
  // An unknown node and a wrong key answer alike, so ids cannot be probed.
  if (node === null || !keyMatches(key, node.key_hash)) throw gatewayError('GW_TOKEN_INVALID', 'unknown node or wrong node key')
  return { id, patterns: Array.isArray(node.patterns) ? node.patterns : [] }
}

/** Whether key is the one whose sha256 the store holds, compared in constant time. */
export function keyMatches (key: string, keyHash: string | undefined): boolean {
  if (keyHash === undefined) return false
  const given = Buffer.from(hashToken(key), 'hex')
  const stored = Buffer.from(keyHash, 'hex')
  return given.length === stored.length && timingSafeEqual(given, stored)
}
