import t from 'tap'
import { fmix32, fnv1a32, hashKey, nodeSeed, pairUnit } from '../../src/math/hash.js'
import { createPolicy } from '../../src/balancing/policies.js'
import { chooseRendezvous, rendezvousScore } from '../../src/balancing/rendezvous.js'
import { selectNode } from '../../src/balancing/select-node.js'
import { buildSnapshot, groupNodes, type Snapshot, type SnapshotNode } from '../../src/balancing/snapshot.js'
import type { NodeDoc } from '../../src/store/documents.js'
import { NOW, TTL, countBy, group, node } from './fixtures.js'

const KEYS = 100_000
const keys = Array.from({ length: KEYS }, (_, i) => `UIN-${i % 97}/cam-${i}`)

function oneGroup (nodes: NodeDoc[]): Snapshot {
  return buildSnapshot({ nodes, groups: [group('g1', 0, 0, { default: true })], partners: [] })
}

const rendezvous = createPolicy('rendezvous')
const options = { policy: rendezvous, nowMs: NOW, nodeTtlMs: TTL }

function pick (snapshot: Snapshot, key: string, policy = rendezvous): string {
  const selection = selectNode(snapshot, { partner: 'p', group: 'g1', pattern: 'streaming', format: 'flv', key }, { ...options, policy })
  if (selection === null) throw new Error(`no node for ${key}`)
  return selection.node._id
}

t.test('the hash matches FNV-1a test vectors and maps pairs into (0, 1)', async (t) => {
  t.equal(fnv1a32(''), 0x811c9dc5)
  t.equal(fnv1a32('a'), 0xe40c292c)
  t.equal(fnv1a32('foobar'), 0xbf9cf968)
  t.equal(fmix32(0), 0)
  t.not(hashKey('cam-1'), hashKey('cam-2'))
  t.not(nodeSeed('cam-1'), hashKey('cam-1'), 'seeds and key hashes are separate domains')
  let sum = 0
  let outside = 0
  for (let i = 0; i < 10_000; i++) {
    const u = pairUnit(hashKey(`k${i}`), nodeSeed('n'))
    if (!(u > 0 && u < 1)) outside++
    sum += u
  }
  t.equal(outside, 0)
  t.ok(Math.abs(sum / 10_000 - 0.5) < 0.01, 'uniform on average')
  t.ok(pairUnit(0xffffffff, 0) < 1 && pairUnit(0, 0) > 0, 'the extremes stay inside')
})

t.test('over 100,000 keys each node gets its weight share, within 5%', async (t) => {
  const weights = [10, 5, 3, 2, 1, 1]
  const snapshot = oneGroup(weights.map((weight, i) => node(`n${i}`, { weight })))
  const counts = countBy(keys, (key) => pick(snapshot, key))
  const totalWeight = weights.reduce((a, b) => a + b, 0)
  weights.forEach((weight, i) => {
    const expected = KEYS * weight / totalWeight
    const got = counts.get(`n${i}`) ?? 0
    t.ok(Math.abs(got / expected - 1) <= 0.05, `n${i} (weight ${weight}): ${got} keys, expected ${expected.toFixed(0)}`)
  })
})

t.test('the same key always gets the same node, whatever the order nodes are listed in', async (t) => {
  const docs = Array.from({ length: 12 }, (_, i) => node(`node-${i}`, { weight: 1 + (i % 4) }))
  const a = oneGroup(docs)
  const b = oneGroup([...docs].reverse().map((doc) => ({ ...doc })))
  let differ = 0
  for (const key of keys.slice(0, 20_000)) {
    const first = pick(a, key)
    if (first !== pick(a, key) || first !== pick(b, key)) differ++
  }
  t.equal(differ, 0)
  t.equal(pick(a, 'UIN-DEMO-1/cam-1'), pick(b, 'UIN-DEMO-1/cam-1'))
})

t.test('removing a node moves only the keys that were on it', async (t) => {
  const weights = [4, 3, 3, 2, 2, 1, 1, 1]
  // Load proportional to weight: every node at the mean, below the bound before and after.
  const docs = weights.map((weight, i) => node(`n${i}`, { weight, load: { sessions: 10 * weight, mbps: 0, cpu: 0 } }))
  const before = oneGroup(docs)
  const after = oneGroup(docs.filter((doc) => doc._id !== 'n2'))
  let moved = 0
  let movedOff = 0
  for (const key of keys) {
    const was = pick(before, key)
    const now = pick(after, key)
    if (was === 'n2') movedOff++
    else if (was !== now) moved++
  }
  t.equal(moved, 0, 'no key that was not on the removed node moved')
  t.ok(movedOff > 0, `${movedOff} keys left the removed node`)
})

t.test('the load bound keeps every node within (1 + ε) of the mean load per weight', async (t) => {
  const epsilon = 0.25
  const weights = [8, 4, 2, 1, 1]
  const minWeight = Math.min(...weights)
  // A few hot cameras: without the bound, each camera's viewers pile onto one node.
  const hotKeys = Array.from({ length: KEYS }, (_, i) => `UIN-1/cam-${i % 40}`)

  function simulate (eps: number): number {
    const docs = weights.map((weight, i) => node(`n${i}`, { weight }))
    const snapshot = oneGroup(docs)
    const policy = createPolicy('rendezvous', { epsilon: eps })
    for (const key of hotKeys) {
      const selection = selectNode(snapshot, { partner: 'p', group: 'g1', pattern: 'streaming', format: 'flv', key }, { ...options, policy })
      if (selection === null) throw new Error('no node')
      selection.node.load.sessions++
    }
    const totalLoad = docs.reduce((sum, doc) => sum + doc.load.sessions, 0)
    t.equal(totalLoad, KEYS)
    const mean = totalLoad / weights.reduce((a, b) => a + b, 0)
    return Math.max(...docs.map((doc) => doc.load.sessions / doc.weight)) / mean
  }

  const bounded = simulate(epsilon)
  // The bound is checked before the increment, so one session (1 / weight) may top it.
  const slack = (1 / minWeight) / (KEYS / weights.reduce((a, b) => a + b, 0))
  t.ok(bounded <= 1 + epsilon + slack, `max load/weight is ${bounded.toFixed(4)}× the mean`)
  const unbounded = simulate(Infinity)
  t.ok(unbounded > 1 + epsilon, `without the bound it reaches ${unbounded.toFixed(2)}× the mean`)
})

t.test('an over-bound top node gives way to the next best by score', async (t) => {
  const docs = [node('a', { weight: 1 }), node('b', { weight: 1 }), node('c', { weight: 1 })]
  const snapshot = oneGroup(docs)
  const nodes = groupNodes(snapshot, 'g1')
  const context = { partner: 'p', pattern: 'streaming', format: 'flv' as const, nowMs: NOW, nodeTtlMs: TTL }
  const key = 'UIN-1/cam-1'
  const scoreOf = (n: SnapshotNode): number => rendezvousScore(n.weight, hashKey(key), n.seed)
  const ranked = [...nodes].sort((x, y) => scoreOf(y) - scoreOf(x))
  const [top, second, third] = ranked
  if (top === undefined || second === undefined || third === undefined) throw new Error('three nodes expected')
  t.equal(chooseRendezvous(nodes, key, context, 0.25)?.node, top)
  top.doc.load.sessions = 10
  // bound: 1.25 × 11 / 3 ≈ 4.6 per weight; top at 10 is over, second at 0 is within.
  t.equal(chooseRendezvous(nodes, key, context, 0.25)?.node, second)
  second.doc.load.sessions = 10
  t.equal(chooseRendezvous(nodes, key, context, 0.25)?.node, third)
  t.equal(chooseRendezvous(nodes, key, context, Infinity)?.node, top, 'ε = Infinity: no bound')
})

t.test('the load bound weighs bandwidth where nodes declare it', async (t) => {
  const docs = [
    node('a', { capacity: { sessions: 1000, mbps: 1000 } }),
    node('b', { capacity: { sessions: 1000, mbps: 1000 } }),
    node('c', { capacity: { sessions: 1000 } })
  ]
  const snapshot = oneGroup(docs)
  const nodes = groupNodes(snapshot, 'g1')
  const context = { partner: 'p', pattern: 'streaming', format: 'flv' as const, nowMs: NOW, nodeTtlMs: TTL }
  const byId = (id: string): SnapshotNode => nodes.find((n) => n.id === id) as SnapshotNode
  // Keys whose top node is a: equal sessions everywhere, so only bandwidth can turn a away.
  const topOnA = keys.filter((key) => chooseRendezvous(nodes, key, context, 0.25)?.node.id === 'a').slice(0, 50)
  t.ok(topOnA.length === 50)
  for (const n of nodes) n.doc.load = { sessions: 10, mbps: 100, cpu: 0 }
  for (const key of topOnA) t.equal(chooseRendezvous(nodes, key, context, 0.25)?.node.id, 'a', 'even bandwidth: a keeps its keys')
  // a carries 10 sessions' worth of heavy streams: 600 of the 700 Mbit/s the declaring nodes carry.
  byId('a').doc.load.mbps = 600
  const moved = topOnA.map((key) => chooseRendezvous(nodes, key, context, 0.25)?.node.id)
  t.notOk(moved.includes('a'), 'a, over its bandwidth share, gets no new viewers')
  t.ok(moved.includes('b') && moved.includes('c'), 'they go to b and to c, which declares no bandwidth')
  t.equal(chooseRendezvous(nodes, topOnA[0] as string, context, Infinity)?.node.id, 'a', 'ε = Infinity: no bound')
  // Both bounds leave no node: the sessions bound alone decides.
  // a: idle but its bandwidth taken (900 of 909 Mbit/s with one session's worth); b and c: all
  // the sessions, over the sessions bound of (1.25 × 201 / 3) per weight.
  byId('a').doc.load = { sessions: 0, mbps: 900, cpu: 0 }
  byId('b').doc.load = { sessions: 100, mbps: 0, cpu: 0 }
  byId('c').doc.load = { sessions: 100, mbps: 0, cpu: 0 }
  const assessed = rendezvous.assess(nodes, topOnA[0] as string, context)
  t.same(assessed.map((a) => a.overLoadBound), [true, true, true], 'every node over one bound or the other')
  t.equal(chooseRendezvous(nodes, topOnA[0] as string, context, 0.25)?.node.id, 'a', 'the node within the sessions bound')
})

t.test('a group with no eligible node yields null', async (t) => {
  const snapshot = oneGroup([node('a', { enabled: false }), node('b', { last_seen: null })])
  const context = { partner: 'p', pattern: 'streaming', format: 'flv' as const, nowMs: NOW, nodeTtlMs: TTL }
  t.equal(chooseRendezvous(groupNodes(snapshot, 'g1'), 'k', context, 0.25), null)
  t.equal(chooseRendezvous([], 'k', context, 0.25), null)
})

t.test('epsilon is validated', async (t) => {
  t.throws(() => createPolicy('rendezvous', { epsilon: -0.1 }), TypeError)
  t.throws(() => createPolicy('rendezvous', { epsilon: Number.NaN }), TypeError)
  t.equal(createPolicy('rendezvous', { epsilon: 0 }).name, 'rendezvous')
})
