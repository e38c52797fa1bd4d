// Which node is calling. Nodes name themselves with `?node=<id>` in the hook URL and prove it
// with their heartbeat key, as `?key=<key>` (SRS and nginx-rtmp cannot set headers) or as
// `Authorization: Bearer <key>`. The store holds only the key's sha256.
//
// GET /verify is called for every HLS playlist and segment, so its caller is recognised from
// this replica's routing view, which holds every node's key hash, with no store call; the
// header of a key once accepted is remembered, so a warm check costs a map lookup, not a
// digest. A node created or re-keyed a moment ago is recognised once the view has it (within
// SNAPSHOT_REFRESH_MS).

import type { FastifyRequest } from 'fastify'
import { hash, timingSafeEqual } from 'node:crypto'
import { hashToken } from '../../auth/token-hash.js'
import { gatewayError } from '../../errors.js'
import { bearerToken } from '../../http/bearer.js'
import type { RoutingSnapshotSource } from '../../routing/routing-snapshot.js'
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

/** Checks that the caller of /verify is the node it names; throws 401 (or 503 before the view has loaded). */
export type VerifyCaller = (node: string, authorization: string | undefined) => void

/** Accepted Authorization headers remembered at once: a few per node (keys rotate). */
const ACCEPTED_MAX = 10_000

export function createVerifyCaller (routing: Pick<RoutingSnapshotSource, 'current'>): VerifyCaller {
  // Header → the node it proved and the key hash it matched. Only accepted headers are kept,
  // so strangers add nothing; a lookup hashes the whole header, so it says nothing of a key
  // by how long it takes.
  const accepted = new Map<string, { node: string, keyHash: string }>()
  return (node, authorization) => {
    const snapshot = routing.current()
    if (snapshot === undefined) throw gatewayError('GW_DEPENDENCY_DOWN', 'the node list has not loaded yet')
    const keyHash = snapshot.nodes.nodesById.get(node)?.doc.key_hash
    if (authorization === undefined) throw gatewayError('GW_TOKEN_MISSING', 'send the node key as Authorization: Bearer (the node\'s nginx sets it for /verify)')
    const known = accepted.get(authorization)
    if (known !== undefined && known.node === node && known.keyHash === keyHash) return
    const key = bearerToken(authorization, 512)
    // An unknown node and a wrong key answer alike, so ids cannot be probed.
    if (key === undefined || keyHash === undefined || hash('sha256', key) !== keyHash) throw gatewayError('GW_TOKEN_INVALID', 'unknown node or wrong node key')
    if (accepted.size >= ACCEPTED_MAX) accepted.clear()
    accepted.set(authorization, { node, keyHash })
  }
}
