// The redirect memo: a stream's node choice for the rest of its second, and under it the URLs of
// the viewers sent there, keyed by their token id; both bounded per second.

import t from 'tap'
import { createRedirectMemo, type ViewerRedirect } from '../../../src/handlers/stream/redirect-memo.js'
import type { RoutingSnapshot } from '../../../src/routing/routing-snapshot.js'
import type { NodeDoc } from '../../../src/store/documents.js'

const node = { _id: 'node-a', host: 'a.example' } as NodeDoc
const choice = { node, answerNode: { id: 'node-a', host: 'a.example', group: 'g' }, urlBeforeGrant: 'http://a.example/flv?server=S&camera=C&sig=', silentAt: 9_000 }
const viewer = (n: number): ViewerRedirect => ({ own: 'acct', tid: `t${n}`, tms: undefined, cip: undefined, url: `u${n}`, expiresAt: 0, jti: `j${n}` })

t.test('a choice is kept for the rest of the second with the viewer that made it; others are added under it', async (t) => {
  let clock = 5_100
  const memo = createRedirectMemo(() => clock)
  const snapshot = { livenessVersion: 0 } as RoutingSnapshot
  memo.set(snapshot, 'k', choice, viewer(1))
  const hit = memo.get(snapshot, 'k', clock)
  t.equal(hit?.node, node)
  t.equal(hit?.viewers.get('t1')?.url, 'u1')
  memo.addViewer(hit!, viewer(2))
  t.equal(memo.get(snapshot, 'k', clock)?.viewers.get('t2')?.url, 'u2')
  t.equal(memo.get(snapshot, 'k', 9_001), undefined, 'not past the moment its node goes silent')
  clock = 6_000
  t.equal(memo.get(snapshot, 'k', clock), undefined, 'a new second starts afresh')
  memo.set(snapshot, 'k', choice, viewer(3))
  snapshot.livenessVersion++
  t.equal(memo.get(snapshot, 'k', clock), undefined, 'and so does liveness applied to the snapshot')
})

t.test('at most 10,000 viewers\' URLs a second, over all choices; the count starts again with the memo', async (t) => {
  let clock = 1_000
  const memo = createRedirectMemo(() => clock)
  const snapshot = { livenessVersion: 0 } as RoutingSnapshot
  memo.set(snapshot, 'a', choice, viewer(0))
  memo.set(snapshot, 'b', choice, viewer(1))
  const a = memo.get(snapshot, 'a', clock)!
  const b = memo.get(snapshot, 'b', clock)!
  for (let n = 2; n < 10_000; n++) memo.addViewer(n % 2 === 0 ? a : b, viewer(n))
  memo.addViewer(a, { ...viewer(0), url: 'again' })
  t.equal(a.viewers.get('t0')?.url, 'again', 'a viewer\'s new URL replaces theirs, counted once')
  memo.addViewer(a, viewer(10_000))
  t.notOk(a.viewers.has('t10000'), 'past the bound: not kept')
  t.equal(a.viewers.size + b.viewers.size, 10_000)
  clock = 2_000
  memo.set(snapshot, 'a', choice, viewer(1))
  const fresh = memo.get(snapshot, 'a', clock)!
  memo.addViewer(fresh, viewer(2))
  t.equal(fresh.viewers.size, 2, 'a new second keeps viewers again')
})
