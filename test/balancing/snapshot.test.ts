import t from 'tap'
import { buildSnapshot, formatBit, groupChain, groupNodes, NodeIndex, patternChain } from '../../src/balancing/snapshot.js'
import { demoGeoGroups, demoNodes, demoPartners } from '../../src/demo/demo-data.js'
import { streamFormats } from '../../src/store/documents.js'
import { group, node, partner } from './fixtures.js'

t.test('indexes nodes, groups and partners by id and nodes by group', async (t) => {
  const snapshot = buildSnapshot({ nodes: demoNodes, groups: demoGeoGroups, partners: demoPartners })
  t.equal(snapshot.nodesById.size, demoNodes.length)
  t.equal(snapshot.nodesById.get('node-moscow-1')?.doc, demoNodes[0])
  t.same(groupNodes(snapshot, 'ru-central').map((n) => n.id), ['node-moscow-1', 'node-moscow-2'])
  t.same(groupNodes(snapshot, 'nowhere'), [])
  t.equal(snapshot.groupsById.get('eu-west')?.name, 'Europe, west')
  t.equal(snapshot.partnersById.get('demo')?.name, 'Demo partner')
  t.equal(snapshot.defaultGroup, 'eu-west')
})

t.test('orders the other groups by great-circle distance', async (t) => {
  const snapshot = buildSnapshot({ nodes: [], groups: demoGeoGroups, partners: [] })
  t.same(snapshot.nearestGroups.get('ru-central'), ['eu-west', 'us-east'])
  t.same(snapshot.nearestGroups.get('us-east'), ['eu-west', 'ru-central'])
  t.same(snapshot.nearestGroups.get('eu-west'), ['ru-central', 'us-east'])
})

t.test('precomputes each group chain: own, fallbacks, then nearest up to the limit', async (t) => {
  const snapshot = buildSnapshot({ nodes: [], groups: demoGeoGroups, partners: [] })
  t.same(groupChain(snapshot, 'ru-central'), ['ru-central', 'eu-west', 'us-east'])
  t.same(groupChain(snapshot, 'us-east'), ['us-east', 'eu-west', 'ru-central'])
  t.same(groupChain(snapshot, 'mars'), ['eu-west', 'ru-central', 'us-east'], 'an unknown group gets the default chain')

  const line = [
    group('a', 0, 0, { fallback: { groups: ['c', 'missing', 'a', 'c'], to_closest: true, limit: 2 } }),
    group('b', 0, 1),
    group('c', 0, 2),
    group('d', 0, 3),
    group('e', 0, 4)
  ]
  const chains = buildSnapshot({ nodes: [], groups: line, partners: [] })
  t.same(groupChain(chains, 'a'), ['a', 'c', 'b', 'd'], 'unknown and repeated ids skipped; the limit counts groups added')
  t.same(groupChain(chains, 'b'), ['b'], 'to_closest false: no nearest groups')
  t.same(groupChain(chains, 'mars'), [], 'no default group: nothing')
})

t.test('precomputes node fields', async (t) => {
  const doc = node('n1', { formats: ['hls'], patterns: ['streaming', 'streaming', 'archive'], weight: -3, partners: ['p'] })
  const snapshot = buildSnapshot({ nodes: [doc], groups: [], partners: [] })
  const n = snapshot.nodesById.get('n1')
  t.ok(n)
  if (n === undefined) return
  t.equal(n.formatMask, formatBit('hls'))
  t.equal(formatBit('constructor'), 0)
  const bits = streamFormats.map(formatBit)
  t.ok(bits.every((bit) => bit > 0), 'every stream format has a bit')
  t.equal(new Set(bits).size, streamFormats.length, 'each its own')
  t.same(n.patterns, ['streaming', 'archive'])
  t.equal(n.weight, 0, 'a weight that is not positive becomes 0')
  t.not(buildSnapshot({ nodes: [node('n1')], groups: [], partners: [] }).nodesById.get('n1')?.seed, undefined)
  t.equal(
    buildSnapshot({ nodes: [node('n1')], groups: [], partners: [] }).nodesById.get('n1')?.seed,
    n.seed,
    'the seed comes from the id alone'
  )
})

t.test('pattern fallbacks come from own properties only', async (t) => {
  const snapshot = buildSnapshot({ nodes: [], groups: [], partners: [partner('p', { archive: ['archive', 'streaming', 'analytics'] })] })
  t.same(patternChain(snapshot, 'p', 'archive'), ['archive', 'streaming', 'analytics'])
  t.same(patternChain(snapshot, 'p', 'constructor'), ['constructor'])
  t.same(patternChain(snapshot, 'unknown', 'archive'), ['archive'])
})

t.test('throws on repeated ids', async (t) => {
  t.throws(() => buildSnapshot({ nodes: [node('n'), node('n')], groups: [], partners: [] }), TypeError)
  t.throws(() => buildSnapshot({ nodes: [], groups: [group('g', 0, 0), group('g', 1, 1)], partners: [] }), TypeError)
  t.throws(() => buildSnapshot({ nodes: [], groups: [], partners: [partner('p'), partner('p')] }), TypeError)
})

t.test('a node index filled one document at a time builds the same view as the documents', async (t) => {
  const index = new NodeIndex()
  for (const doc of demoNodes) index.add(doc)
  t.throws(() => { index.add(demoNodes[0] as typeof demoNodes[number]) }, { name: 'TypeError', message: 'duplicate node id "node-moscow-1"' })
  const fromIndex = buildSnapshot({ nodes: index, groups: demoGeoGroups, partners: demoPartners })
  const fromDocs = buildSnapshot({ nodes: demoNodes, groups: demoGeoGroups, partners: demoPartners })
  t.equal(fromIndex.nodesById, index.nodesById, 'the view keeps the index it was given')
  t.same([...fromIndex.nodesById.keys()], [...fromDocs.nodesById.keys()])
  t.same(groupNodes(fromIndex, 'ru-central').map((n) => n.id), groupNodes(fromDocs, 'ru-central').map((n) => n.id))
  t.same(fromIndex.groupChains, fromDocs.groupChains)
})

t.test('a 10,000-node snapshot indexes every node', async (t) => {
  const groups = Array.from({ length: 50 }, (_, i) => group(`g${i}`, (i * 7) % 90, (i * 13) % 180))
  const nodes = Array.from({ length: 10_000 }, (_, i) => node(`n${i}`, { group: `g${i % 50}` }))
  const snapshot = buildSnapshot({ nodes, groups, partners: [] })
  t.equal(snapshot.nodesById.size, 10_000)
  t.equal(groupNodes(snapshot, 'g7').length, 200)
})
