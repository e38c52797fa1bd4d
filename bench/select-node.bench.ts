// Microbenchmark for node selection (docs/design.md section 8: a group of 100 nodes under 20 µs; a
// snapshot of 10,000 nodes under 50 MB). Run alone:
//   node --expose-gc --import tsx bench/select-node.bench.ts
// or call runSelectionBench() from a bench runner. Prints/returns numbers; asserts nothing.

import { pathToFileURL } from 'node:url'
import { createPolicy } from '../src/balancing/policies.js'
import { selectNode, type SelectionRequest } from '../src/balancing/select-node.js'
import { buildSnapshot, type Snapshot } from '../src/balancing/snapshot.js'
import type { GeoGroupDoc, NodeDoc } from '../src/store/documents.js'
import { streamingNode } from '../src/demo/demo-data.js'

/** even: every node at the group's mean load per weight, so the top node is always within
 * the bound (one pass). skewed: loads unrelated to weights, so the bound often turns the top
 * node away (a second pass). */
export type LoadShape = 'even' | 'skewed'

export interface GroupSizeResult {
  nodes: number
  load: LoadShape
  iterations: number
  nsPerOp: number
  usPerOp: number
}

export interface SelectionBenchResult {
  /** The same loop with no selection in it: key lookup and loop cost. */
  baselineNsPerOp: number
  groups: GroupSizeResult[]
  snapshot: {
    nodes: number
    /** Heap the snapshot adds on top of its input documents. */
    snapshotMb: number
    /** Heap of the documents and the snapshot together. */
    totalMb: number
    /** Whether global.gc was available (run node with --expose-gc for steady numbers). */
    gcExposed: boolean
    buildMs: number
  }
}

export interface SelectionBenchOptions {
  /** Iterations per group size; default 200,000 (fewer for 1,000 nodes). */
  iterations?: number
}

const NOW = Date.UTC(2026, 0, 1)

function benchNode (i: number, group: string, load: LoadShape = 'skewed'): NodeDoc {
  const weight = 1 + (i % 10)
  return streamingNode({
    _id: `node-${group}-${i}`,
    host: `n${i}.${group}.nodes.bench`,
    group,
    weight,
    capacity: { sessions: 10_000 },
    key_hash: 'f'.repeat(64),
    last_seen: new Date(NOW),
    load: { sessions: load === 'even' ? 10 * weight : (i * 37) % 200, mbps: 0, cpu: 0 }
  })
}

function benchGroup (id: string, i: number): GeoGroupDoc {
  return {
    _id: id,
    name: id,
    coordinates: { lat: (i * 7) % 90, lon: (i * 13) % 180 },
    match: { countries: [], regions: [], cities: [], cidrs: [] },
    fallback: { groups: [], to_closest: true, limit: 2 },
    default: i === 0
  }
}

function gc (): boolean {
  const collect = (globalThis as { gc?: () => void }).gc
  if (collect === undefined) return false
  collect()
  collect()
  return true
}

function timeSelection (snapshot: Snapshot, group: string, keys: readonly string[], iterations: number): number {
  const policy = createPolicy('rendezvous')
  const options = { policy, nowMs: NOW, nodeTtlMs: 15_000 }
  const request: SelectionRequest = { partner: 'bench', group, pattern: 'streaming', format: 'flv', key: '' }
  const mask = keys.length - 1
  let found = 0
  const run = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const selection = selectNode(snapshot, { ...request, key: keys[i & mask] ?? '' }, options)
      if (selection !== null) found++
    }
  }
  run(Math.min(iterations, 20_000))
  const start = process.hrtime.bigint()
  run(iterations)
  const elapsed = Number(process.hrtime.bigint() - start)
  if (found === 0) throw new Error('selection found no node: the bench is broken')
  return elapsed / iterations
}

function timeBaseline (keys: readonly string[], iterations: number): number {
  const mask = keys.length - 1
  let length = 0
  const run = (n: number): void => {
    for (let i = 0; i < n; i++) length += (keys[i & mask] ?? '').length
  }
  run(Math.min(iterations, 20_000))
  const start = process.hrtime.bigint()
  run(iterations)
  const elapsed = Number(process.hrtime.bigint() - start)
  if (length === 0) throw new Error('no keys')
  return elapsed / iterations
}

function measureSnapshotHeap (nodeCount: number): SelectionBenchResult['snapshot'] {
  const groupCount = 100
  const groups = Array.from({ length: groupCount }, (_, i) => benchGroup(`g${i}`, i))
  const gcExposed = gc()
  const empty = process.memoryUsage().heapUsed
  const nodes = Array.from({ length: nodeCount }, (_, i) => benchNode(i, `g${i % groupCount}`))
  gc()
  const withDocs = process.memoryUsage().heapUsed
  const start = process.hrtime.bigint()
  const snapshot = buildSnapshot({ nodes, groups, partners: [] })
  const buildMs = Number(process.hrtime.bigint() - start) / 1e6
  gc()
  const withSnapshot = process.memoryUsage().heapUsed
  if (snapshot.nodesById.size !== nodes.length) throw new Error('snapshot lost nodes')
  const mb = (bytes: number): number => Math.round(bytes / 1024 / 1024 * 100) / 100
  return {
    nodes: nodeCount,
    snapshotMb: mb(withSnapshot - withDocs),
    totalMb: mb(withSnapshot - empty),
    gcExposed,
    buildMs: Math.round(buildMs * 100) / 100
  }
}

export function runSelectionBench (options: SelectionBenchOptions = {}): SelectionBenchResult {
  const iterations = options.iterations ?? 200_000
  // A power of two, so the loop picks a key with a mask.
  const keys = Array.from({ length: 4096 }, (_, i) => `UIN-${i % 61}/cam-${i}`)
  const cases = [10, 100, 1000].flatMap((size) => (['even', 'skewed'] as const).map((load) => ({ size, load, group: `${load}-${size}` })))
  const groups = cases.map((c, i) => benchGroup(c.group, i))
  const nodes = cases.flatMap((c) => Array.from({ length: c.size }, (_, i) => benchNode(i, c.group, c.load)))
  const snapshot = buildSnapshot({ nodes, groups, partners: [] })

  const baselineNsPerOp = timeBaseline(keys, iterations)
  const results = cases.map(({ size, load, group }) => {
    const n = size >= 1000 ? Math.max(1, Math.floor(iterations / 10)) : iterations
    const nsPerOp = timeSelection(snapshot, group, keys, n)
    return { nodes: size, load, iterations: n, nsPerOp: Math.round(nsPerOp), usPerOp: Math.round(nsPerOp / 10) / 100 }
  })
  return {
    baselineNsPerOp: Math.round(baselineNsPerOp * 100) / 100,
    groups: results,
    snapshot: measureSnapshotHeap(10_000)
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(JSON.stringify(runSelectionBench(), null, 2) + '\n')
}
