import t from 'tap'
import { createPolicy } from '../../src/balancing/policies.js'
import { groupChain, selectNode, type SelectionRequest } from '../../src/balancing/select-node.js'
import { buildSnapshot } from '../../src/balancing/snapshot.js'
import { demoGeoGroups, demoNodes, demoPartners } from '../../src/demo/demo-data.js'
import type { GeoGroupDoc, NodeDoc } from '../../src/store/documents.js'
import { NOW, TTL, group, node, partner } from './fixtures.js'

// home (0, 0) falls back to backup, far away, then to the nearest groups: near, then mid.
function groups (fallback: Partial<GeoGroupDoc['fallback']> = {}): GeoGroupDoc[] {
  return [
    group('home', 0, 0, { fallback: { groups: ['backup'], to_closest: true, limit: 1, ...fallback } }),
    group('backup', 50, 50),
    group('near', 0, 1),
    group('mid', 0, 2),
    group('far', 0, 30, { default: true })
  ]
}

const request: SelectionRequest = { partner: 'acme', group: 'home', pattern: 'streaming', format: 'flv', key: 'UIN-1/cam-1' }
const options = { policy: createPolicy('rendezvous'), nowMs: NOW, nodeTtlMs: TTL }
const partners = [partner('acme', { archive: ['analytics', 'streaming'] }), partner('other')]

function where (nodes: NodeDoc[], req: Partial<SelectionRequest> = {}, fallback: Partial<GeoGroupDoc['fallback']> = {}, nowMs = NOW): string | null {
  const snapshot = buildSnapshot({ nodes, groups: groups(fallback), partners })
  const selection = selectNode(snapshot, { ...request, ...req }, { ...options, nowMs })
  return selection === null ? null : `${selection.node._id}@${selection.group}/${selection.pattern}`
}

const down = { enabled: false }

t.test('the group itself first', async (t) => {
  const nodes = [node('h1', { group: 'home' }), node('b1', { group: 'backup' }), node('n1', { group: 'near' })]
  t.equal(where(nodes), 'h1@home/streaming')
})

t.test('then its fallback groups, in order, before any nearer group', async (t) => {
  const nodes = [node('h1', { group: 'home', ...down }), node('b1', { group: 'backup' }), node('n1', { group: 'near' })]
  t.equal(where(nodes), 'b1@backup/streaming')
})

t.test('then the nearest groups, up to the limit', async (t) => {
  const nodes = [node('h1', { group: 'home', ...down }), node('b1', { group: 'backup', ...down }), node('n1', { group: 'near' }), node('m1', { group: 'mid' })]
  t.equal(where(nodes), 'n1@near/streaming')
  const nearDown = [node('b1', { group: 'backup', ...down }), node('n1', { group: 'near', ...down }), node('m1', { group: 'mid' })]
  t.equal(where(nearDown), null, 'limit 1: mid is not tried')
  t.equal(where(nearDown, {}, { limit: 2 }), 'm1@mid/streaming', 'limit 2: it is')
  t.equal(where([node('n1', { group: 'near' })], {}, { to_closest: false }), null, 'to_closest false stops after the fallback groups')
})

t.test('a stale heartbeat sends the stream on down the chain', async (t) => {
  const nodes = [node('h1', { group: 'home' }), node('b1', { group: 'backup', last_seen: new Date(NOW + 60_000) })]
  t.equal(where(nodes, {}, {}, NOW + 30_000), 'b1@backup/streaming', 'h1 went quiet 30 s ago')
  t.equal(where(nodes, {}, {}, NOW), 'h1@home/streaming')
})

t.test('then the partner\'s fallback patterns, each with the whole group chain', async (t) => {
  const nodes = [node('h1', { group: 'home' }), node('n1', { group: 'near', patterns: ['streaming', 'analytics'] })]
  t.equal(where(nodes, { pattern: 'archive' }), 'n1@near/analytics', 'analytics (first fallback) anywhere in the chain beats streaming at home')
  t.equal(where([node('h1', { group: 'home' })], { pattern: 'archive' }), 'h1@home/streaming')
  t.equal(where([node('a1', { group: 'mid', patterns: ['archive'] }), node('h1', { group: 'home' })], { pattern: 'archive' }, { limit: 2 }), 'a1@mid/archive',
    'the request\'s own pattern anywhere in the chain comes first')
  t.equal(where([node('h1', { group: 'home' })], { pattern: 'archive', partner: 'other' }), null, 'another partner has no fallbacks')
})

t.test('a node dedicated to a partner is chosen only for that partner', async (t) => {
  const nodes = [node('h1', { group: 'home', partners: ['acme'], weight: 100 }), node('b1', { group: 'backup' })]
  t.equal(where(nodes), 'h1@home/streaming')
  t.equal(where(nodes, { partner: 'other' }), 'b1@backup/streaming')
  const both = [node('d1', { group: 'home', partners: ['acme'] }), node('s1', { group: 'home' })]
  const onDedicated = Array.from({ length: 200 }, (_, i) => where(both, { partner: 'other', key: `UIN-1/cam-${i}` }))
    .filter((at) => at !== 's1@home/streaming')
  t.same(onDedicated, [], 'another partner\'s viewers all go to the shared node')
  const acme = Array.from({ length: 200 }, (_, i) => where(both, { key: `UIN-1/cam-${i}` }))
  t.ok(acme.includes('d1@home/streaming') && acme.includes('s1@home/streaming'), 'its own partner\'s viewers use both')
})

t.test('finally null, when no node anywhere may take it', async (t) => {
  const nodes = [node('h1', { group: 'home', ...down }), node('b1', { group: 'backup', draining: true }), node('n1', { group: 'near', formats: ['hls'] })]
  t.equal(where(nodes), null)
  t.equal(where([]), null)
})

t.test('an unknown group falls back to the default group', async (t) => {
  const nodes = [node('h1', { group: 'home' }), node('f1', { group: 'far' })]
  t.equal(where(nodes, { group: 'atlantis' }), 'f1@far/streaming')
  const noDefault = buildSnapshot({ nodes, groups: [group('home', 0, 0)], partners })
  t.equal(selectNode(noDefault, { ...request, group: 'atlantis' }, options), null)
})

t.test('groupChain is exported for callers', async (t) => {
  const snapshot = buildSnapshot({ nodes: [], groups: groups({ limit: 3 }), partners })
  t.same(groupChain(snapshot, 'home'), ['home', 'backup', 'near', 'mid', 'far'])
})

t.test('the demo data: Moscow viewers stay in ru-central, then eu-west', async (t) => {
  const fresh = demoNodes.map((doc) => ({ ...doc, last_seen: new Date(NOW), load: { ...doc.load } }))
  const snapshot = buildSnapshot({ nodes: fresh, groups: demoGeoGroups, partners: demoPartners })
  const demo = { ...request, partner: 'demo', group: 'ru-central' }
  t.equal(selectNode(snapshot, demo, options)?.group, 'ru-central')
  const moscowDown = buildSnapshot({
    nodes: fresh.map((doc) => doc.group === 'ru-central' ? { ...doc, draining: true } : doc),
    groups: demoGeoGroups,
    partners: demoPartners
  })
  t.equal(selectNode(moscowDown, demo, options)?.node._id, 'node-london-1')
  t.equal(selectNode(snapshot, { ...demo, pattern: 'archive' }, options)?.pattern, 'streaming', 'archive falls back to streaming')
})

t.test('a client over IPv6 goes to a node that serves IPv6 when one is eligible anywhere in the chain', async (t) => {
  const v4Home = node('home-v4', { group: 'home', ipv6: false })
  const v6Backup = node('backup-v6', { group: 'backup' })
  t.equal(where([v4Home, v6Backup]), 'home-v4@home/streaming', 'an IPv4 client: the home group')
  t.equal(where([v4Home, v6Backup], { ipv6: true }), 'backup-v6@backup/streaming', 'an IPv6 client: the IPv6 node, further down the chain')
  t.equal(where([v4Home, node('backup-v4', { group: 'backup', ipv6: false })], { ipv6: true }), 'home-v4@home/streaming',
    'no IPv6 node anywhere: the chain again over every node')
  t.equal(where([v4Home, node('home-v6', { group: 'home', ipv6: true })], { ipv6: true }), 'home-v6@home/streaming')
})
