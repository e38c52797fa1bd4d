// Which stored documents a routing snapshot is built from. MongoDB may hold documents the
// admin API would never have written (a script, a restore, a hand edit, an older version's
// shape). One of them must not stop the whole snapshot from loading: then every later change
// (a node disabled, a group added) would wait behind it, and a failed load would pass for an
// unreachable store. So each document is checked with what routing reads it with
// (src/balancing/document-problems.ts, geoGroupProblem); a bad one is left out and reported
// (refused) and the rest is routed with. Only a configuration nothing can be routed with at
// all — no usable geo group — refuses the snapshot as a whole: the last one keeps serving.

import { buildSnapshot, type NodeIndex, type Snapshot } from '../balancing/snapshot.js'
import { createGeoGroupIndex, type GeoGroupIndex } from '../geo/match-geo-group.js'
import type { GeoGroupDoc, PartnerDoc } from '../store/documents.js'

export type RoutingCollection = 'nodes' | 'geo_groups' | 'partners'
export const routingCollections: readonly RoutingCollection[] = ['nodes', 'geo_groups', 'partners']

/** A stored document left out of routing, and why. */
export interface RefusedDocument {
  readonly collection: RoutingCollection
  /** The document's _id as text (at most ID_LENGTH characters); '?' when it has none. */
  readonly id: string
  readonly reason: string
}

/** The longest id a refusal names: ids come from whatever was written to the store. */
const ID_LENGTH = 128

/**
 * The store answered, but what it holds cannot be routed with at all. Not a store failure:
 * the store is reachable, and the last snapshot keeps serving until the configuration is fixed.
 */
export class RoutingConfigError extends Error {
  readonly refused: readonly RefusedDocument[]

  constructor (message: string, refused: readonly RefusedDocument[]) {
    super(message)
    this.name = 'RoutingConfigError'
    this.refused = refused
  }
}

function idOf (doc: unknown): string {
  const id = typeof doc === 'object' && doc !== null ? (doc as { _id?: unknown })._id : undefined
  if (id === undefined || id === null) return '?'
  const text = typeof id === 'string' ? id : String(id)
  return text.length > ID_LENGTH ? `${text.slice(0, ID_LENGTH - 1)}…` : text
}

export interface DocumentScreen {
  /** Whether doc may be routed with; if not, it joins `refused` with the reason. */
  admit: (collection: RoutingCollection, doc: unknown, problemOf: (doc: unknown) => string | undefined) => boolean
  readonly refused: RefusedDocument[]
}

/** A screen for one load: it also refuses a repeated id, which one view cannot index twice. */
export function createDocumentScreen (): DocumentScreen {
  const seen = new Map<RoutingCollection, Set<unknown>>(routingCollections.map((c) => [c, new Set()]))
  const refused: RefusedDocument[] = []
  return {
    admit (collection, doc, problemOf) {
      const ids = seen.get(collection) as Set<unknown>
      const id = (doc as { _id?: unknown } | null)?._id
      const problem = problemOf(doc) ?? (ids.has(id) ? '_id is listed twice' : undefined)
      if (problem === undefined) {
        ids.add(id)
        return true
      }
      refused.push({ collection, id: idOf(doc), reason: problem })
      return false
    },
    refused
  }
}

export interface RoutableInput {
  readonly nodes: NodeIndex
  readonly groups: readonly GeoGroupDoc[]
  readonly partners: readonly PartnerDoc[]
}

/**
 * The view selection and geo matching read, from documents already screened; throws a
 * RoutingConfigError when there is nothing to route with, or when building fails anyway.
 */
export function buildRoutingView (input: RoutableInput, refused: readonly RefusedDocument[]): { nodes: Snapshot, geo: GeoGroupIndex } {
  if (input.groups.length === 0) {
    const left = refused.filter((doc) => doc.collection === 'geo_groups').length
    throw new RoutingConfigError(left === 0 ? 'there is no geo group to route with' : `all ${left} geo groups are refused`, refused)
  }
  try {
    return { nodes: buildSnapshot(input), geo: createGeoGroupIndex(input.groups) }
  } catch (err) {
    throw new RoutingConfigError(`the routing snapshot cannot be built: ${(err as Error).message}`, refused)
  }
}
