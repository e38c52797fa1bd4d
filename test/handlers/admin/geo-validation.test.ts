// Admin writes are checked as the router reads them: a network the CIDR matcher would refuse,
// a host the redirect could not write into a URL, an overflow URL it could not parse, are all
// refused with 400 naming the field, on create, replace and patch alike, and nothing is stored
// or audited. What the API does accept, the routing snapshot loads without refusing anything.

import t from 'tap'
import { request } from 'undici'
import { get, startSystem } from '../../helpers/system.js'

// Generous: a busy machine must not turn a slow auth-server answer into a 503 here.
const system = await startSystem(t, { config: { authTimeoutMs: 5000, resolverTimeoutMs: 5000 } })
const base = system.gatewayUrl
const ADMIN = 'demo-admin-token'
const { geoGroups, nodes, partners, audit } = system.store.collections

async function call (method: 'POST' | 'PUT' | 'PATCH', path: string, body: unknown): Promise<{ status: number, json: any }> {
  const res = await request(`${base}${path}`, {
    method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body)
  })
  const text = await res.body.text()
  return { status: res.statusCode, json: text === '' ? null : JSON.parse(text) }
}

/**
 * Every stored document of the routing collections and the audit trail, to compare before and
 * after; nodes without their liveness, which the test system's heartbeats keep moving.
 */
async function everything (): Promise<unknown> {
  return await Promise.all([
    geoGroups.find({}).sort({ _id: 1 }).toArray(),
    nodes.find({}).sort({ _id: 1 }).toArray().then((docs) => docs.map(({ last_seen: _seen, load: _load, ...admin }) => admin)),
    partners.find({}).sort({ _id: 1 }).toArray(),
    audit.find({}).sort({ _id: 1 }).toArray()
  ])
}

const BAD_CIDRS = ['1.2.3.4/99', '999.1.1.1/8', '1.2.3.4/33', ':::/64', '1.2.3.4.5/8']

const group = (cidrs: string[]): Record<string, unknown> => ({
  _id: 'office', coordinates: { lat: 55.75, lon: 37.62 }, match: { countries: [], regions: [], cities: [], cidrs }
})

t.test('a network the router cannot read is refused on create, naming the field; nothing is stored or audited', async (t) => {
  const before = await everything()
  for (const cidr of BAD_CIDRS) {
    const answer = await call('POST', '/api/v1/geo-groups', group(['10.0.0.0/8', cidr]))
    t.equal(answer.status, 400, `400 for ${cidr}`)
    t.equal(answer.json.error.code, 'GW_BAD_REQUEST')
    t.match(answer.json.error.message, /match.cidrs.1 is not an IPv4 or IPv6 network/, `the field is named for ${cidr}`)
  }
  t.same(await everything(), before, 'no document and no audit record')
})

t.test('the same networks are refused by PUT and by PATCH', async (t) => {
  const existing = await geoGroups.findOne({ _id: 'ru-central' })
  t.ok(existing)
  const before = await everything()
  for (const cidr of BAD_CIDRS) {
    const patched = await call('PATCH', '/api/v1/geo-groups/ru-central', { match: { cidrs: [cidr] } })
    t.equal(patched.status, 400, `PATCH: 400 for ${cidr}`)
    t.match(patched.json.error.message, /match.cidrs.0 is not an IPv4 or IPv6 network/)
    const replaced = await call('PUT', '/api/v1/geo-groups/ru-central', { ...existing, match: { ...existing?.match, cidrs: [cidr] } })
    t.equal(replaced.status, 400, `PUT: 400 for ${cidr}`)
    t.match(replaced.json.error.message, /match.cidrs.0 is not an IPv4 or IPv6 network/)
  }
  t.same(await everything(), before, 'nothing changed')
})

t.test('hosts and overflow URLs the redirect could not use are refused too', async (t) => {
  const before = await everything()
  const node = await call('POST', '/api/v1/nodes', { _id: 'node-colon', host: 'node:1', group: 'eu-west' })
  t.equal(node.status, 400)
  t.match(node.json.error.message, /host holds a colon but is not an IPv6 address/)
  const numeric = await call('PATCH', '/api/v1/nodes/node-moscow-1', { host: '10.0.0.300' })
  t.equal(numeric.status, 400, 'an address that is no address')
  t.match(numeric.json.error.message, /host is not a host a URL can hold/)
  const partner = await call('POST', '/api/v1/partners', { _id: 'acme', overflow_url: 'http://[::1' })
  t.equal(partner.status, 400)
  t.match(partner.json.error.message, /overflow_url is not an http or https URL/)
  const groupUrl = await call('PATCH', '/api/v1/geo-groups/eu-west', { overflow_url: 'https://cdn.example:99999/' })
  t.equal(groupUrl.status, 400)
  t.match(groupUrl.json.error.message, /overflow_url/)
  t.same(await everything(), before, 'nothing changed')
})

t.test('what the API accepts the router loads: IPv4 and IPv6 networks, an IPv6 host', async (t) => {
  const created = await call('POST', '/api/v1/geo-groups', group(['10.0.0.0/8', '2001:db8::/32', '::ffff:192.0.2.0/120', '0.0.0.0/0']))
  t.equal(created.status, 201, JSON.stringify(created.json))
  const node = await call('POST', '/api/v1/nodes', { _id: 'node-v6', host: '2001:db8::10', group: 'office' })
  t.equal(node.status, 201, JSON.stringify(node.json))
  t.equal(await audit.countDocuments({ id: { $in: ['office', 'node-v6'] }, action: 'create' }), 2, 'both audited')
  await system.gateway.refreshSnapshot()
  const ready = (await get(`${base}/readyz`)).json()
  t.match(ready, { status: 'ready', store: 'connected' })
  t.notOk('refused_documents' in ready, 'the snapshot refused nothing')
})
