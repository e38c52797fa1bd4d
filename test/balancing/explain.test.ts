import t from 'tap'
import { explainSelection } from '../../src/balancing/explain.js'
import { createPolicy } from '../../src/balancing/policies.js'
import { selectNode, type SelectionRequest } from '../../src/balancing/select-node.js'
import { buildSnapshot, type Snapshot } from '../../src/balancing/snapshot.js'
import { NOW, TTL, group, node, partner } from './fixtures.js'

function world (): Snapshot {
  return buildSnapshot({
    groups: [
      group('home', 0, 0, { fallback: { groups: ['backup'], to_closest: true, limit: 1 } }),
      group('backup', 40, 40),
      group('near', 0, 1, { default: true })
    ],
    nodes: [
      node('h-off', { group: 'home', enabled: false }),
      node('h-busy', { group: 'home', weight: 1, load: { sessions: 40, mbps: 0, cpu: 0 } }),
      node('h-idle', { group: 'home', weight: 1 }),
      node('h-full', { group: 'home', capacity: { sessions: 3 }, load: { sessions: 3, mbps: 0, cpu: 0 } }),
      node('h-hls', { group: 'home', formats: ['hls'] }),
      node('b-1', { group: 'backup', weight: 2 }),
      node('b-acme', { group: 'backup', partners: ['acme'] }),
      node('n-arch', { group: 'near', patterns: ['archive'] }),
      node('n-1', { group: 'near' })
    ],
    partners: [partner('acme', { archive: ['streaming'] })]
  })
}

const options = { policy: createPolicy('rendezvous'), nowMs: NOW, nodeTtlMs: TTL }
const base: SelectionRequest = { partner: 'acme', group: 'home', pattern: 'streaming', format: 'flv', key: 'UIN-1/cam-1' }

t.test('explain agrees with selectNode, key after key', async (t) => {
  const snapshot = world()
  const requests: SelectionRequest[] = [
    base,
    { ...base, partner: 'other' },
    { ...base, pattern: 'archive' },
    { ...base, format: 'hls' },
    { ...base, group: 'atlantis' },
    { ...base, pattern: 'analytics' }
  ]
  let disagreements = 0
  let compared = 0
  for (const request of requests) {
    for (let i = 0; i < 2_000; i++) {
      const req = { ...request, key: `UIN-${i % 13}/cam-${i}` }
      const selection = selectNode(snapshot, req, options)
      const explained = explainSelection(snapshot, req, options)
      const same = selection === null
        ? explained.chosen === null
        : explained.chosen?.node === selection.node._id && explained.chosen.group === selection.group && explained.chosen.pattern === selection.pattern
      if (!same) disagreements++
      compared++
    }
  }
  t.equal(disagreements, 0, `${compared} decisions compared`)
})

t.test('the chosen node has the best score among the eligible nodes within the bound', async (t) => {
  const snapshot = world()
  let wrong = 0
  for (let i = 0; i < 2_000; i++) {
    const explained = explainSelection(snapshot, { ...base, key: `UIN-2/cam-${i}` }, options)
    const tried = explained.candidates.filter((c) => c.group === explained.chosen?.group && c.pattern === explained.chosen.pattern)
    const chosen = tried.find((c) => c.reason === 'chosen')
    const rivals = tried.filter((c) => c.reason === 'eligible')
    if (chosen === undefined || rivals.some((c) => (c.score ?? 0) > (chosen.score ?? 0))) wrong++
  }
  t.equal(wrong, 0)
})

t.test('lists every node of every group tried, with its reason', async (t) => {
  const snapshot = world()
  // h-busy carries 40 of 41 sessions at weight 1 of 2: over the bound of 1.25 × 41 / 2 per weight.
  const explained = explainSelection(snapshot, base, options)
  t.same(explained.groups, ['home', 'backup', 'near'])
  t.same(explained.chosen, { node: 'h-idle', group: 'home', pattern: 'streaming' })
  t.same(explained.candidates.map((c) => [c.node, c.reason, c.eligible]), [
    ['h-off', 'disabled', false],
    ['h-busy', 'over_load_bound', true],
    ['h-idle', 'chosen', true],
    ['h-full', 'capacity', false],
    ['h-hls', 'format', false]
  ])
  t.ok(explained.candidates.every((c) => c.eligible === (c.score !== null)), 'a score exactly for the eligible')
  t.ok(explained.candidates.every((c) => c.group === 'home' && c.pattern === 'streaming'))
})

t.test('walks the chain and the pattern fallbacks as selectNode does', async (t) => {
  const snapshot = world()
  const hls = explainSelection(snapshot, { ...base, format: 'hls' }, options)
  t.equal(hls.chosen?.group, 'home', 'h-hls serves hls')

  const archive = explainSelection(snapshot, { ...base, pattern: 'archive', group: 'backup' }, options)
  t.same(archive.groups, ['backup'])
  // b-1 (weight 2) outscores b-acme (weight 1) for this key.
  t.same(archive.chosen, { node: 'b-1', group: 'backup', pattern: 'streaming' }, 'no archive node in the chain: streaming')
  t.same(archive.candidates.map((c) => `${c.pattern}:${c.node}:${c.reason}`), [
    'archive:b-1:pattern',
    'archive:b-acme:pattern',
    'streaming:b-1:chosen',
    'streaming:b-acme:eligible'
  ])

  const nothing = explainSelection(snapshot, { ...base, pattern: 'analytics', partner: 'other' }, options)
  t.equal(nothing.chosen, null)
  t.same([...new Set(nothing.candidates.map((c) => c.group))], ['home', 'backup', 'near'], 'every group tried')
  t.ok(nothing.candidates.every((c) => c.reason === 'pattern' || c.reason === 'disabled'))
  t.equal(nothing.candidates.length, 9)

  const lost = explainSelection(buildSnapshot({ nodes: [], groups: [], partners: [] }), base, options)
  t.same(lost, { groups: [], candidates: [], chosen: null, ipv6: null })
})

t.test('explain names the IPv6 choice and the bandwidth and CPU limits', async (t) => {
  const snapshot = buildSnapshot({
    groups: [group('home', 0, 0, { default: true, fallback: { groups: ['backup'], to_closest: false, limit: 0 } }), group('backup', 40, 40)],
    nodes: [
      node('h-v4', { group: 'home', ipv6: false }),
      node('h-net', { group: 'home', capacity: { sessions: 100, mbps: 1000 }, load: { sessions: 1, mbps: 1000, cpu: 10 } }),
      node('h-cpu', { group: 'home', capacity: { sessions: 100, cpu: 90 }, load: { sessions: 1, mbps: 10, cpu: 95 } }),
      node('b-v6', { group: 'backup' })
    ],
    partners: []
  })
  const overIpv6 = explainSelection(snapshot, { ...base, ipv6: true }, options)
  t.equal(overIpv6.ipv6, 'ipv6_node')
  t.same(overIpv6.chosen, { node: 'b-v6', group: 'backup', pattern: 'streaming' })
  t.same(overIpv6.candidates.map((c) => [c.node, c.reason]), [['h-v4', 'no_ipv6'], ['h-net', 'over_bandwidth'], ['h-cpu', 'over_cpu'], ['b-v6', 'chosen']])
  const overIpv4 = explainSelection(snapshot, base, options)
  t.equal(overIpv4.ipv6, null)
  t.same(overIpv4.chosen, { node: 'h-v4', group: 'home', pattern: 'streaming' })

  const noV6 = buildSnapshot({ groups: [group('home', 0, 0, { default: true })], nodes: [node('h-v4', { group: 'home', ipv6: false })], partners: [] })
  const fellBack = explainSelection(noV6, { ...base, ipv6: true }, options)
  t.equal(fellBack.ipv6, 'no_ipv6_node')
  t.same(fellBack.chosen, { node: 'h-v4', group: 'home', pattern: 'streaming' })
  t.same(selectNode(noV6, { ...base, ipv6: true }, options)?.node._id, 'h-v4', 'selectNode agrees')
})
