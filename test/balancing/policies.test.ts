import t from 'tap'
import { createPolicy, policyNames, type PolicyName } from '../../src/balancing/policies.js'
import type { ChoiceContext } from '../../src/balancing/policy.js'
import { buildSnapshot, groupNodes } from '../../src/balancing/snapshot.js'
import type { NodeDoc } from '../../src/store/documents.js'
import { NOW, TTL, countBy, group, node, seededRandom } from './fixtures.js'

const context: ChoiceContext = { partner: 'p', pattern: 'streaming', format: 'flv', nowMs: NOW, nodeTtlMs: TTL }

function candidates (nodes: NodeDoc[]): ReturnType<typeof groupNodes> {
  return groupNodes(buildSnapshot({ nodes, groups: [group('g1', 0, 0)], partners: [] }), 'g1')
}

function load (sessions: number, capacity: number): Partial<NodeDoc> {
  return { load: { sessions, mbps: 0, cpu: 0 }, capacity: { sessions: capacity } }
}

t.test('createPolicy knows every listed name and throws a TypeError for others', async (t) => {
  for (const name of policyNames) t.equal(createPolicy(name).name, name)
  t.throws(() => createPolicy('round-robin' as PolicyName), TypeError)
  t.throws(() => createPolicy('weighted-random', { random: 42 as unknown as () => number }), TypeError)
})

t.test('weighted-random picks by weight, with a seeded source', async (t) => {
  const weights = [6, 3, 1, 0]
  const nodes = candidates(weights.map((weight, i) => node(`n${i}`, { weight })))
  const policy = createPolicy('weighted-random', { random: seededRandom(42) })
  const draws = 100_000
  const picks = countBy(Array.from({ length: draws }, () => policy.choose(nodes, 'same-key', context)), (c) => c?.node.id ?? 'none')
  weights.forEach((weight, i) => {
    const expected = draws * weight / 10
    const got = picks.get(`n${i}`) ?? 0
    if (weight === 0) t.equal(got, 0, 'weight 0: never')
    else t.ok(Math.abs(got / expected - 1) <= 0.05, `n${i} (weight ${weight}): ${got}, expected ${expected}`)
  })
  t.equal(policy.choose(nodes, 'k', context)?.score !== undefined, true)
  const same = createPolicy('weighted-random', { random: seededRandom(7) })
  const again = createPolicy('weighted-random', { random: seededRandom(7) })
  t.same(
    Array.from({ length: 50 }, () => same.choose(nodes, 'k', context)?.node.id),
    Array.from({ length: 50 }, () => again.choose(nodes, 'k', context)?.node.id),
    'one seed, one sequence'
  )
  t.equal(policy.choose(candidates([node('x', { enabled: false })]), 'k', context), null)
})

t.test('least-loaded picks the lowest load relative to capacity', async (t) => {
  const policy = createPolicy('least-loaded')
  const nodes = candidates([
    node('a', load(50, 100)),
    node('b', load(30, 100)),
    node('c', load(100, 1000)),
    node('d', { ...load(0, 10), enabled: false })
  ])
  const choice = policy.choose(nodes, 'k', context)
  t.equal(choice?.node.id, 'c')
  t.equal(choice?.score, 0.9)
})

t.test('least-loaded breaks ties by weight, then id', async (t) => {
  const policy = createPolicy('least-loaded')
  t.equal(policy.choose(candidates([node('a', load(1, 10)), node('b', { ...load(1, 10), weight: 3 })]), 'k', context)?.node.id, 'b')
  t.equal(policy.choose(candidates([node('z', load(1, 10)), node('y', load(1, 10))]), 'k', context)?.node.id, 'y')
  t.equal(policy.choose(candidates([node('x', load(10, 10))]), 'k', context), null, 'full: ineligible')
})

t.test('every policy reports a reason and score per candidate', async (t) => {
  const nodes = candidates([node('a'), node('b', { draining: true })])
  for (const name of policyNames) {
    const assessed = createPolicy(name, { random: seededRandom(1) }).assess(nodes, 'k', context)
    t.equal(assessed.length, 2, name)
    t.match(assessed[0], { reason: null, score: Number, overLoadBound: false }, name)
    t.same(assessed[1], { reason: 'draining', score: null, overLoadBound: false }, name)
  }
})
