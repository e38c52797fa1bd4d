import t from 'tap'
import { nodeIneligibility, type EligibilityRequest } from '../../src/balancing/eligibility.js'
import { buildSnapshot, type SnapshotNode } from '../../src/balancing/snapshot.js'
import type { NodeDoc } from '../../src/store/documents.js'
import { NOW, TTL, node } from './fixtures.js'

const request: EligibilityRequest = { partner: 'acme', pattern: 'streaming', format: 'flv' }

function view (doc: NodeDoc): SnapshotNode {
  const n = buildSnapshot({ nodes: [doc], groups: [], partners: [] }).nodesById.get(doc._id)
  if (n === undefined) throw new Error('node missing from its snapshot')
  return n
}

function reason (overrides: Partial<NodeDoc>, req: EligibilityRequest = request, nowMs = NOW): string | null {
  return nodeIneligibility(view(node('n', overrides)), req, nowMs, TTL)
}

t.test('an up-to-date shared node with room is eligible', async (t) => {
  t.equal(reason({}), null)
})

t.test('disabled', async (t) => {
  t.equal(reason({ enabled: false }), 'disabled')
})

t.test('draining: the admin\'s drain or the node\'s own', async (t) => {
  t.equal(reason({ draining: true }), 'draining')
  t.equal(reason({ reported_status: 'draining' }), 'draining')
  t.equal(reason({ draining: true, reported_status: 'up' }), 'draining', 'a node saying up does not undo the admin\'s drain')
  t.equal(reason({ reported_status: 'up' }), null)
})

t.test('stale_heartbeat: never seen, or seen longer ago than the TTL', async (t) => {
  t.equal(reason({ last_seen: null }), 'stale_heartbeat')
  t.equal(reason({}, request, NOW + TTL), null, 'exactly the TTL old is still fresh')
  t.equal(reason({}, request, NOW + TTL + 1), 'stale_heartbeat')
  t.equal(reason({ last_seen: new Date(Number.NaN) }), 'stale_heartbeat')
})

t.test('pattern', async (t) => {
  t.equal(reason({ patterns: ['archive'] }), 'pattern')
  t.equal(reason({ patterns: ['archive'] }, { ...request, pattern: 'archive' }), null)
})

t.test('format', async (t) => {
  t.equal(reason({ formats: ['hls', 'ws-fmp4'] }), 'format')
  t.equal(reason({ formats: ['hls', 'ws-fmp4'] }, { ...request, format: 'hls' }), null)
})

t.test('partner: a dedicated node serves only its partners', async (t) => {
  t.equal(reason({ partners: ['other'] }), 'partner')
  t.equal(reason({ partners: ['other', 'acme'] }), null)
  t.equal(reason({ partners: [] }), null, 'no partners: shared')
})

t.test('capacity', async (t) => {
  t.equal(reason({ capacity: { sessions: 10 }, load: { sessions: 10, mbps: 0, cpu: 0 } }), 'capacity')
  t.equal(reason({ capacity: { sessions: 10 }, load: { sessions: 9, mbps: 0, cpu: 0 } }), null)
})

t.test('over_bandwidth and over_cpu: declared limits, by the last heartbeat', async (t) => {
  const busy = { sessions: 5, mbps: 900, cpu: 80 }
  t.equal(reason({ load: busy }), null, 'no declared limit: no limit')
  t.equal(reason({ capacity: { sessions: 100, mbps: 1000 }, load: busy }), null)
  t.equal(reason({ capacity: { sessions: 100, mbps: 900 }, load: busy }), 'over_bandwidth', 'at the limit')
  t.equal(reason({ capacity: { sessions: 100, cpu: 90 }, load: busy }), null)
  t.equal(reason({ capacity: { sessions: 100, cpu: 80 }, load: busy }), 'over_cpu')
  t.equal(reason({ capacity: { sessions: 5, mbps: 1, cpu: 1 }, load: busy }), 'capacity', 'sessions first')
  t.equal(reason({ capacity: { sessions: 100, mbps: 1, cpu: 1 }, load: busy }), 'over_bandwidth', 'then bandwidth, then CPU')
})

t.test('no_ipv6: only when the request asks for IPv6 nodes', async (t) => {
  t.equal(reason({ ipv6: false }), null)
  t.equal(reason({ ipv6: false }, { ...request, ipv6Only: true }), 'no_ipv6')
  t.equal(reason({}, { ...request, ipv6Only: true }), null, 'a node that says nothing serves IPv6')
  t.equal(reason({ ipv6: true }, { ...request, ipv6Only: true }), null)
})

t.test('weight: a node of weight 0 is never eligible', async (t) => {
  t.equal(reason({ weight: 0 }), 'weight')
})

t.test('the first reason wins, in the documented order', async (t) => {
  t.equal(reason({ enabled: false, draining: true, last_seen: null }), 'disabled')
  t.equal(reason({ draining: true, last_seen: null, patterns: [] }), 'draining')
  t.equal(reason({ formats: [], partners: ['x'] }), 'format')
})

t.test('heartbeat fields are read live from the document', async (t) => {
  const doc = node('n')
  const n = view(doc)
  t.equal(nodeIneligibility(n, request, NOW, TTL), null)
  doc.reported_status = 'draining'
  t.equal(nodeIneligibility(n, request, NOW, TTL), 'draining', 'a node reporting itself draining')
  doc.reported_status = 'up'
  t.equal(nodeIneligibility(n, request, NOW, TTL), null)
  doc.draining = true
  t.equal(nodeIneligibility(n, request, NOW, TTL), 'draining', 'drained by an admin, whatever the node reports')
  doc.draining = false
  doc.last_seen = new Date(NOW - TTL - 1)
  t.equal(nodeIneligibility(n, request, NOW, TTL), 'stale_heartbeat')
})
