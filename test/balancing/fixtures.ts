// Documents for balancing tests: a node or group with sensible defaults, overridden per test.

import type { GeoGroupDoc, NodeDoc, PartnerDoc } from '../../src/store/documents.js'
import { streamingNode } from '../../src/demo/demo-data.js'

/** The clock every balancing test starts from. */
export const NOW = Date.UTC(2026, 0, 1)
export const TTL = 15_000

export function node (id: string, overrides: Partial<NodeDoc> = {}): NodeDoc {
  return streamingNode({
    _id: id,
    host: `${id}.nodes.test`,
    group: 'g1',
    weight: 1,
    capacity: { sessions: 1_000_000 },
    last_seen: new Date(NOW),
    ...overrides,
    load: { sessions: 0, mbps: 0, cpu: 0, ...overrides.load }
  })
}

export function group (id: string, lat: number, lon: number, overrides: Partial<GeoGroupDoc> = {}): GeoGroupDoc {
  return {
    _id: id,
    name: id,
    coordinates: { lat, lon },
    match: { countries: [], regions: [], cities: [], cidrs: [] },
    fallback: { groups: [], to_closest: false, limit: 0 },
    default: false,
    ...overrides
  }
}

export function partner (id: string, patternFallbacks: Record<string, string[]> = {}): PartnerDoc {
  return { _id: id, name: id, pattern_fallbacks: patternFallbacks }
}

/** A deterministic [0, 1) source (mulberry32), so random policies can be tested. */
export function seededRandom (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Nodes by id → how many of `keys` each got. */
export function countBy<T> (items: Iterable<T>, keyOf: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const item of items) {
    const key = keyOf(item)
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return counts
}
