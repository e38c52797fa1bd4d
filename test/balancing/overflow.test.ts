import t from 'tap'
import { overflowTarget, overflowUrl } from '../../src/balancing/overflow.js'
import { buildSnapshot } from '../../src/balancing/snapshot.js'
import { group, partner } from './fixtures.js'

const snapshot = buildSnapshot({
  groups: [
    group('home', 0, 0, { overflow_url: 'https://cdn.example/live?token=x' }),
    group('plain', 0, 1),
    group('main', 0, 2, { default: true, overflow_url: 'http://origin.example/' }),
    group('broken', 0, 3, { overflow_url: 'https://[oops' })
  ],
  nodes: [],
  partners: [{ ...partner('acme'), overflow_url: 'https://acme-cdn.example/play' }, partner('other')]
})

t.test('the partner\'s overflow wins over the group\'s; the group is the client\'s, else the default', async (t) => {
  t.same(overflowTarget(snapshot, 'acme', 'home'), { url: 'https://acme-cdn.example/play', from: 'partner', id: 'acme' })
  t.same(overflowTarget(snapshot, 'other', 'home'), { url: 'https://cdn.example/live?token=x', from: 'group', id: 'home' })
  t.equal(overflowTarget(snapshot, 'other', 'plain'), null, 'a known group with none: no overflow')
  t.same(overflowTarget(snapshot, 'nobody', 'atlantis'), { url: 'http://origin.example/', from: 'group', id: 'main' }, 'unknown group: the default\'s')
  t.equal(overflowTarget(snapshot, 'other', 'broken'), null, 'a URL that does not parse is ignored')
  const none = buildSnapshot({ groups: [group('g', 0, 0)], nodes: [], partners: [] })
  t.equal(overflowTarget(none, 'p', 'x'), null, 'no default group')
})

t.test('the URL carries the stream\'s server, camera and format', async (t) => {
  const target = overflowTarget(snapshot, 'other', 'home')
  if (target === null) throw new Error('target expected')
  t.equal(overflowUrl(target, 'UIN-1', 'cam 1', 'hls'), 'https://cdn.example/live?token=x&server=UIN-1&camera=cam+1&format=hls')
  t.equal(overflowUrl({ url: 'https://x.example/?server=old', from: 'group', id: 'g' }, 'S', 'C', 'flv'), 'https://x.example/?server=S&camera=C&format=flv')
})
