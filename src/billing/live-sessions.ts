// The live sessions an operator lists (GET /api/v1/sessions): every admitted play, hook plays and
// HLS sessions alike, from the `sessions` documents every replica writes. Live means what
// admission counts: a lease in the future, and not ended. A page is a slice in _id order after
// a cursor (the last id of the page before), so that paging holds still while plays come and
// go. The counts per node, camera and account are taken over the same filter from one read of
// four small fields per session (the embedded store groups only by a plain field, so the
// grouping is done here): a few bytes per live session for each look at the list.

import type { Filter } from 'mongodb'
import type { SessionDoc, StreamFormat } from '../store/documents.js'
import { readInSlices } from '../store/read-in-slices.js'
import type { SessionCollections } from './sessions.js'

export interface SessionFilter {
  /** The owner (account id). */
  account?: string
  node?: string
  server?: string
  camera?: string
  format?: StreamFormat
}

export interface SessionPage {
  items: SessionDoc[]
  /** The cursor of the next page; null on the last. */
  next: string | null
}

export interface LiveCounts {
  total: number
  nodes: Array<{ node: string, sessions: number }>
  cameras: Array<{ server: string, camera: string, sessions: number }>
  accounts: Array<{ account: string, sessions: number }>
}

/** The most entries each count lists (the busiest first). */
export const COUNTS_MAX = 500

export function liveSessionsFilter (filter: SessionFilter, nowMs: number): Filter<SessionDoc> {
  return {
    expires_at: { $gt: new Date(nowMs) },
    ended_at: { $exists: false },
    ...(filter.account !== undefined && { owner: filter.account }),
    ...(filter.node !== undefined && { node: filter.node }),
    ...(filter.server !== undefined && { server: filter.server }),
    ...(filter.camera !== undefined && { camera: filter.camera }),
    ...(filter.format !== undefined && { format: filter.format })
  }
}

export async function listLiveSessions (
  sessions: SessionCollections['sessions'], filter: SessionFilter, page: { limit: number, after?: string, nowMs: number }
): Promise<SessionPage> {
  const query = liveSessionsFilter(filter, page.nowMs)
  if (page.after !== undefined) query._id = { $gt: page.after }
  const items = await sessions.find(query).sort({ _id: 1 }).limit(page.limit).toArray()
  return { items, next: items.length === page.limit ? (items.at(-1)?._id ?? null) : null }
}

export async function countLiveSessions (sessions: SessionCollections['sessions'], filter: SessionFilter, nowMs: number): Promise<LiveCounts> {
  const nodes = new Map<string, number>()
  const cameras = new Map<string, { server: string, camera: string, sessions: number }>()
  const accounts = new Map<string, number>()
  // In slices: thousands of live sessions are a quarter of a second of decoding on a busy core
  // (the embedded store sends whole documents), which would hold every request up in one piece.
  const total = await readInSlices(sessions.find(liveSessionsFilter(filter, nowMs), { projection: { _id: 0, node: 1, server: 1, camera: 1, owner: 1 } }), (session) => {
    nodes.set(session.node, (nodes.get(session.node) ?? 0) + 1)
    // Ids hold no newline (schema-checked where they are written).
    const camera = `${session.server}\n${session.camera}`
    const known = cameras.get(camera)
    if (known === undefined) cameras.set(camera, { server: session.server, camera: session.camera, sessions: 1 })
    else known.sessions++
    accounts.set(session.owner, (accounts.get(session.owner) ?? 0) + 1)
  })
  const busiest = <T extends { sessions: number }>(entries: T[]): T[] => entries.sort((a, b) => b.sessions - a.sessions).slice(0, COUNTS_MAX)
  return {
    total,
    nodes: busiest([...nodes].map(([node, sessions]) => ({ node, sessions }))),
    cameras: busiest([...cameras.values()]),
    accounts: busiest([...accounts].map(([account, sessions]) => ({ account, sessions })))
  }
}
