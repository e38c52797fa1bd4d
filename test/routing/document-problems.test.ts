// The checks the admin API and the routing snapshot share agree with what reads the values:
// cidrProblem with the CIDR matcher, nodeHostProblem with the redirect's URL, and the document
// checks with the snapshot builders, which must not throw on anything the checks let through.

import t from 'tap'
import { nodeHostProblem, nodeProblem, partnerProblem } from '../../src/balancing/document-problems.js'
import { buildSnapshot } from '../../src/balancing/snapshot.js'
import { demoGeoGroups, demoNodes, demoPartners } from '../../src/demo/demo-data.js'
import { cidrProblem, createCidrMatcher } from '../../src/geo/cidr.js'
import { createGeoGroupIndex, geoGroupProblem } from '../../src/geo/match-geo-group.js'
import { nodeStreamUrl } from '../../src/handlers/stream/node-url.js'
import type { NodeDoc } from '../../src/store/documents.js'

const CIDRS = [
  '1.2.3.4/99', '999.1.1.1/8', '1.2.3.4/33', ':::/64', '1.2.3.4.5/8', '10.0.0.0/08', '010.0.0.0/8', 'fe80::1%eth0/64',
  '2001:db8::/129', '2001:db8:::/32', '1.2.3.4/', '/8', '', 'abc/8',
  '10.0.0.0/8', '10.1.2.3/8', '0.0.0.0/0', '192.0.2.7', '2001:db8::/32', '::/0', '::ffff:192.0.2.0/120', '::ffff:0:0/96', '2a02:6b8::/32'
]

t.test('cidrProblem flags exactly what the matcher refuses', async (t) => {
  for (const cidr of CIDRS) {
    let thrown = false
    try {
      createCidrMatcher([[cidr, 1]])
    } catch {
      thrown = true
    }
    t.equal(cidrProblem(cidr) !== undefined, thrown, `${JSON.stringify(cidr)}: ${cidrProblem(cidr) ?? 'fine'}`)
  }
  for (const cidr of ['1.2.3.4/99', '999.1.1.1/8', '1.2.3.4/33', ':::/64', '1.2.3.4.5/8']) t.ok(cidrProblem(cidr), `${cidr}, once admitted by the API`)
  t.match(cidrProblem('1.2.3.4/33'), /prefix length .* 0 to 32/)
  t.match(cidrProblem('2001:db8::/129'), /0 to 128/)
  t.equal(cidrProblem(42), 'is not text')
})

t.test('nodeHostProblem lets through exactly the hosts that make a URL a client parses', async (t) => {
  const node = demoNodes[0] as NodeDoc
  const hosts = ['node-1.example', '192.0.2.1', '2001:db8::10', '::ffff:192.0.2.1', 'localhost', 'a:b', 'node:1', '10.0.0.300', '1.2.3.999', 'fe80::1%eth0', 'bad host', 'a/b', 'a@b', '']
  for (const host of hosts) {
    const url = nodeStreamUrl({ ...node, host }, 'flv', 'S', 'C', 'sig', 'G')
    const parsed = URL.canParse(url) ? new URL(url) : null
    const sound = parsed !== null && parsed.pathname === '/flv' && parsed.username === ''
    t.equal(nodeHostProblem(host) === undefined, sound, `${JSON.stringify(host)}: ${nodeHostProblem(host) ?? 'fine'} (${url})`)
  }
})

t.test('the demo documents pass every check', async (t) => {
  for (const doc of demoNodes) t.equal(nodeProblem(doc), undefined, doc._id)
  for (const doc of demoGeoGroups) t.equal(geoGroupProblem(doc), undefined, doc._id)
  for (const doc of demoPartners) t.equal(partnerProblem(doc), undefined, doc._id)
})

t.test('each check names what is wrong, and what passes builds', async (t) => {
  const node = demoNodes[0] as NodeDoc
  const group = demoGeoGroups[0]
  const nodes: Array<[unknown, RegExp]> = [
    [null, /not an object/],
    [{ ...node, _id: 7 }, /_id/],
    [{ ...node, host: 'a:b' }, /host holds a colon/],
    [{ ...node, port: 0 }, /port/],
    [{ ...node, tls: 'yes' }, /tls/],
    [{ ...node, formats: 'flv' }, /formats/],
    [{ ...node, capacity: null }, /capacity/],
    [{ ...node, enabled: 'false' }, /enabled/],
    [{ ...node, last_seen: '2026-01-01' }, /last_seen/],
    [{ ...node, load: { sessions: 0 } }, /load/]
  ]
  for (const [doc, reason] of nodes) t.match(nodeProblem(doc), reason)
  const groups: Array<[unknown, RegExp]> = [
    [{ ...group, coordinates: { lat: '1', lon: 2 } }, /coordinates/],
    [{ ...group, coordinates: { lat: 91, lon: 2 } }, /coordinates/],
    [{ ...group, match: { ...group?.match, cidrs: ['10.0.0.0/8', '1.2.3.4/33'] } }, /invalid CIDR "1\.2\.3\.4\/33" \(match\.cidrs entry 1\)/],
    [{ ...group, match: { ...group?.match, regions: [5] } }, /match\.regions/],
    [{ ...group, match: { ...group?.match, asns: [-1] } }, /ASN -1/],
    [{ ...group, fallback: undefined }, /fallback/]
  ]
  for (const [doc, reason] of groups) t.match(geoGroupProblem(doc), reason)
  t.match(partnerProblem({ _id: 'p', name: 'p', pattern_fallbacks: { archive: 'streaming' } }), /pattern_fallbacks/)
  t.equal(geoGroupProblem({ ...group, match: { ...group?.match, asns: null } }), undefined, 'asns: null is no ASN rule')

  // What passes goes into the builders without a throw.
  const lenient = { ...node, _id: 'lenient', weight: 'heavy', ipv6: 'maybe', draining: undefined, capacity: { sessions: 5, mbps: 'x' } }
  t.equal(nodeProblem(lenient), undefined, 'values selection reads safely are let through')
  t.doesNotThrow(() => buildSnapshot({ nodes: [lenient as never], groups: demoGeoGroups, partners: demoPartners }))
  t.doesNotThrow(() => createGeoGroupIndex(demoGeoGroups.map((g) => ({ ...g, match: { ...g.match, asns: null as never } }))))
})
