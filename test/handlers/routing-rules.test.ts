// The routing rules end to end: a resolver with generated City and ASN
// databases, the embedded store, the gateway over HTTP — ASN rules, overflow, bandwidth and
// CPU limits, IPv6 clients, each through the stream route and the explainer.

import t from 'tap'
import { request } from 'undici'
import { streamingNode } from '../../src/demo/demo-data.js'
import { asnFixture, cityFixture } from '../fixtures/mmdb/paths.js'
import { get, startSystem } from '../helpers/system.js'

const system = await startSystem(t, {
  // A resolver that is slow to its first answer must not leave the location to the local
  // database, which has no ASNs.
  config: { cityDatabase: cityFixture, resolverTimeoutMs: 5000 },
  resolverEnv: { MAXMIND_CITY_DB: cityFixture, MAXMIND_ASN_DB: asnFixture }
})
const base = system.gatewayUrl
const { collections } = system.store
const ADMIN = 'demo-admin-token'
const LONDON = '81.2.69.160' // AS20712 in the ASN fixture
const BERLIN_V6 = '2a01:4f8::1'

async function call (method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<{ status: number, json: any }> {
  const headers: Record<string, string> = { authorization: `Bearer ${ADMIN}` }
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await request(`${base}${path}`, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) })
  const text = await res.body.text()
  return { status: res.statusCode, json: text === '' ? null : JSON.parse(text) }
}

async function explain (ip: string, extra = ''): Promise<any> {
  const answer = await call('GET', `/api/v1/route?ip=${encodeURIComponent(ip)}&server=UIN-DEMO-1&camera=cam-1&format=flv${extra}`)
  t.equal(answer.status, 200)
  return answer.json
}

function stream (ip: string, query: Record<string, string> = {}): ReturnType<typeof get> {
  const params = new URLSearchParams({ server: 'UIN-DEMO-1', camera: 'cam-1', access_token: 'demo-viewer-token', ...query })
  return get(`${base}/flv?${params.toString()}`, { headers: { 'x-forwarded-for': ip } })
}

async function metric (name: string, labels: string): Promise<number> {
  const text = (await get(`${base}/metrics`)).body
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`))
  return line === undefined ? 0 : Number(line.split(' ').pop())
}

t.test('a geo group matches by ASN, before the country rule', async (t) => {
  const before = await explain(LONDON)
  t.equal(before.location.asn, 20712, 'the resolver\'s answer carries the ASN')
  t.same([before.groups[0], before.group_rule], ['eu-west', 'country'])

  const created = await call('POST', '/api/v1/geo-groups', {
    _id: 'peering-aaisp',
    name: 'Peering with AS20712',
    coordinates: { lat: 51.5, lon: -0.1 },
    match: { countries: [], regions: [], cities: [], cidrs: [], asns: [20712] },
    fallback: { groups: ['eu-west'], to_closest: false, limit: 0 },
    default: false
  })
  t.equal(created.status, 201)
  await collections.nodes.insertOne(streamingNode({ _id: 'node-peering-1', host: 'peering-1.nodes.geogate.test', group: 'peering-aaisp', weight: 1, last_seen: new Date(Date.now() + 3_600_000) }))
  await system.gateway.refreshSnapshot()
  const after = await explain(LONDON)
  t.same([after.groups[0], after.group_rule], ['peering-aaisp', 'asn'])
  t.same(after.chosen, { node: 'node-peering-1', group: 'peering-aaisp', pattern: 'streaming' })
  const answer = await stream(LONDON)
  t.equal(answer.status, 302)
  t.equal(new URL(String(answer.headers.location)).host, 'peering-1.nodes.geogate.test')
  t.same((await explain('77.88.8.8')).group_rule, 'country', 'another network keeps its rules')
  await collections.geoGroups.deleteOne({ _id: 'peering-aaisp' })
  await collections.nodes.deleteOne({ _id: 'node-peering-1' })
  await system.gateway.refreshSnapshot()
})

t.test('a node over its declared bandwidth or CPU gets no new viewers, and the explainer says why', async (t) => {
  await collections.nodes.updateOne({ _id: 'node-moscow-1' }, { $set: { 'capacity.mbps': 1000, load: { sessions: 3, mbps: 1200, cpu: 20 } } })
  await collections.nodes.updateOne({ _id: 'node-moscow-2' }, { $set: { 'capacity.cpu': 90, load: { sessions: 3, mbps: 100, cpu: 97 } } })
  await system.gateway.refreshSnapshot()
  const body = await explain('77.88.8.8')
  const reasons = Object.fromEntries(body.candidates.map((c: { node: string, reason: string }) => [c.node, c.reason]))
  t.equal(reasons['node-moscow-1'], 'over_bandwidth')
  t.equal(reasons['node-moscow-2'], 'over_cpu')
  t.equal(body.chosen?.group, 'eu-west', 'the fallback group takes the stream')
  const answer = await stream('77.88.8.8')
  t.equal(answer.status, 302)
  t.notMatch(String(answer.headers.location), /moscow/)
  await collections.nodes.updateMany({ _id: { $in: ['node-moscow-1', 'node-moscow-2'] } }, { $set: { load: { sessions: 0, mbps: 0, cpu: 0 } } })
  await system.gateway.refreshSnapshot()
  t.equal((await explain('77.88.8.8')).chosen?.group, 'ru-central', 'back under its limits, it takes viewers again')
})

t.test('a client over IPv6 goes to a node that serves IPv6', async (t) => {
  const before = await explain(BERLIN_V6)
  t.same([before.groups[0], before.chosen?.node, before.ipv6], ['eu-west', 'node-london-1', 'ipv6_node'])
  await collections.nodes.updateOne({ _id: 'node-london-1' }, { $set: { ipv6: false } })
  await system.gateway.refreshSnapshot()
  const after = await explain(BERLIN_V6)
  t.equal(after.ipv6, 'ipv6_node')
  t.not(after.chosen?.node, 'node-london-1', 'the IPv4-only node is passed over')
  t.match(after.candidates.find((c: { node: string }) => c.node === 'node-london-1'), { eligible: false, reason: 'no_ipv6' })
  const answer = await stream(BERLIN_V6)
  t.equal(answer.status, 302)
  t.notMatch(String(answer.headers.location), /london/)
  const v4 = await stream('81.2.69.1', { camera: 'cam-2' })
  t.equal(new URL(String(v4.headers.location)).host, 'london-1.nodes.geogate.test', 'an IPv4 client still gets it')
  await collections.nodes.updateOne({ _id: 'node-london-1' }, { $unset: { ipv6: '' } })
  await system.gateway.refreshSnapshot()
})

t.test('with no node anywhere, the partner\'s or the group\'s overflow URL instead of 503', async (t) => {
  const noNode = await stream('77.88.8.8', { pattern: 'analytics' })
  t.equal(noNode.status, 503)
  t.equal(noNode.json().error.code, 'GW_NO_NODE')
  t.equal((await explain('77.88.8.8', '&pattern=analytics')).overflow, null)

  const group = (await call('GET', '/api/v1/geo-groups/ru-central')).json
  t.equal((await call('PUT', '/api/v1/geo-groups/ru-central', { ...group, overflow_url: 'https://second-cdn.example/live' })).status, 200)
  await system.gateway.refreshSnapshot()
  const before = await metric('geogate_overflow_redirects_total', 'source="group"')
  const byGroup = await stream('77.88.8.8', { pattern: 'analytics' })
  t.equal(byGroup.status, 302)
  t.equal(byGroup.headers.location, 'https://second-cdn.example/live?server=UIN-DEMO-1&camera=cam-1&format=flv')
  t.equal(await metric('geogate_overflow_redirects_total', 'source="group"'), before + 1, 'counted in /metrics')
  const explained = await explain('77.88.8.8', '&pattern=analytics')
  t.equal(explained.chosen, null)
  t.same(explained.overflow, { url: 'https://second-cdn.example/live', from: 'group', id: 'ru-central', redirect: 'https://second-cdn.example/live?server=UIN-DEMO-1&camera=cam-1&format=flv' })

  const partner = (await call('GET', '/api/v1/partners/demo')).json
  t.equal((await call('PUT', '/api/v1/partners/demo', { ...partner, overflow_url: 'https://partner-cdn.example/play?x=1' })).status, 200)
  await system.gateway.refreshSnapshot()
  const json = await get(`${base}/flv?${new URLSearchParams({ server: 'UIN-DEMO-1', camera: 'cam-1', access_token: 'demo-viewer-token', pattern: 'analytics', redirect: 'false' }).toString()}`, { headers: { 'x-forwarded-for': '77.88.8.8' } })
  t.equal(json.status, 200)
  t.match(json.json(), { url: 'https://partner-cdn.example/play?x=1&server=UIN-DEMO-1&camera=cam-1&format=flv', node: { id: 'overflow:partner:demo', host: 'partner-cdn.example' }, alternates: [] })
  t.equal(await metric('geogate_overflow_redirects_total', 'source="partner"'), 1)
  t.equal((await stream('77.88.8.8')).status, 302, 'a stream with a node is not sent to the overflow')
  t.match(String((await stream('77.88.8.8')).headers.location), /nodes\.geogate\.test/)
  t.equal((await call('PUT', '/api/v1/partners/demo', { ...partner, overflow_url: 'ftp://nope' })).status, 400, 'only http(s) URLs')
})

t.test('the admin API takes the new node fields, and documents without them keep working', async (t) => {
  const node = {
    _id: 'node-capped-1',
    host: 'capped-1.nodes.geogate.test',
    port: 443,
    tls: true,
    group: 'eu-west',
    patterns: ['streaming'],
    formats: ['flv'],
    weight: 1,
    partners: [],
    enabled: true,
    draining: false
  }
  t.equal((await call('POST', '/api/v1/nodes', { ...node, capacity: { sessions: 10, mbps: 2500, cpu: 85 }, ipv6: false })).status, 201)
  const stored = await collections.nodes.findOne({ _id: 'node-capped-1' })
  t.same([stored?.capacity, stored?.ipv6], [{ sessions: 10, mbps: 2500, cpu: 85 }, false])
  t.equal((await call('POST', '/api/v1/nodes', { ...node, _id: 'node-old-1', capacity: { sessions: 10 } })).status, 201, 'without them')
  t.equal((await call('POST', '/api/v1/nodes', { ...node, _id: 'node-bad-1', capacity: { sessions: 10, cpu: 120 } })).status, 400, 'CPU is a percentage')
  t.equal((await call('POST', '/api/v1/nodes', { ...node, _id: 'node-bad-2', capacity: { sessions: 10, mbps: 0 } })).status, 400)
})
