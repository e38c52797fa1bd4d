// The admin API over HTTP: roles, schema validation that changes nothing, audit records, and
// the route explainer.

import t from 'tap'
import { request } from 'undici'
import { hashToken } from '../../../src/auth/token-hash.js'
import { startSystem } from '../../helpers/system.js'

const system = await startSystem(t)
const base = system.gatewayUrl
const ADMIN = 'demo-admin-token'
const VIEWER = 'admin-viewer-token'
await system.store.collections.tokens.insertOne({
  _id: hashToken(VIEWER), owner_type: 'admin', owner_id: 'ops-viewer', grants: [{ object_type: 'gateway', object_id: '*', rights: ['read'] }], expires_at: null
})

async function call (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, token?: string, body?: unknown): Promise<{ status: number, json: any }> {
  const headers: Record<string, string> = {}
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await request(`${base}${path}`, { method, headers, ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }) })
  const text = await res.body.text()
  return { status: res.statusCode, json: text === '' ? null : JSON.parse(text) }
}

const newNode = {
  _id: 'node-paris-1',
  host: 'paris-1.nodes.geogate.test',
  port: 443,
  tls: true,
  group: 'eu-west',
  patterns: ['streaming'],
  formats: ['flv', 'hls'],
  weight: 3,
  capacity: { sessions: 500 },
  partners: [],
  enabled: true,
  draining: false,
  key: 'paris-node-key-0123456789'
}

t.test('writes need a token, and the admin right', async (t) => {
  const anonymous = await call('POST', '/api/v1/nodes', undefined, newNode)
  t.equal(anonymous.status, 401)
  t.equal(anonymous.json.error.code, 'GW_TOKEN_MISSING')
  const unknown = await call('POST', '/api/v1/nodes', 'no-such-token', newNode)
  t.equal(unknown.status, 401)
  t.equal(unknown.json.error.code, 'GW_TOKEN_INVALID')
  const viewer = await call('POST', '/api/v1/nodes', VIEWER, newNode)
  t.equal(viewer.status, 403)
  t.equal(viewer.json.error.code, 'GW_FORBIDDEN')
  const streamViewer = await call('GET', '/api/v1/nodes', 'demo-viewer-token')
  t.equal(streamViewer.status, 403, 'a stream token is no admin token')
  t.equal(await system.store.collections.nodes.countDocuments({ _id: 'node-paris-1' }), 0, 'nothing was written')
})

t.test('a viewer token reads', async (t) => {
  const list = await call('GET', '/api/v1/nodes', VIEWER)
  t.equal(list.status, 200)
  t.same(list.json.items.map((n: { _id: string }) => n._id).sort(), ['node-london-1', 'node-moscow-1', 'node-moscow-2', 'node-us-1'])
  t.notOk(list.json.items.some((n: Record<string, unknown>) => 'key_hash' in n), 'key hashes never leave the store')
  const one = await call('GET', '/api/v1/geo-groups/ru-central', VIEWER)
  t.equal(one.status, 200)
  t.same(one.json.match.countries, ['RU'])
  const missing = await call('GET', '/api/v1/tariffs/none', VIEWER)
  t.equal(missing.status, 404)
})

t.test('a bad body gets 400 and changes nothing', async (t) => {
  // What an admin write could change: the demo nodes' heartbeats (the test system's) are not.
  const adminFields = async (): Promise<unknown[]> => (await system.store.collections.nodes.find({}, { projection: { last_seen: 0 } }).sort({ _id: 1 }).toArray())
  const before = await adminFields()
  const auditBefore = await system.store.collections.audit.countDocuments({})
  const bad: unknown[] = [
    { ...newNode, weight: -1 },
    { ...newNode, port: 70000 },
    { ...newNode, formats: ['mp4'] },
    { ...newNode, extra: 'field' },
    { ...newNode, _id: { $gt: '' } },
    { ...newNode, host: 'bad host' },
    '{not json',
    { _id: 'node-half' }
  ]
  for (const body of bad) {
    const answer = await call('POST', '/api/v1/nodes', ADMIN, body)
    t.equal(answer.status, 400, `400 for ${JSON.stringify(body).slice(0, 60)}`)
    t.equal(answer.json.error.code, 'GW_BAD_REQUEST')
  }
  const put = await call('PUT', '/api/v1/nodes/node-moscow-1', ADMIN, { ...newNode, _id: 'node-moscow-1', weight: 'heavy' })
  t.equal(put.status, 400)
  const mismatch = await call('PUT', '/api/v1/nodes/node-moscow-1', ADMIN, { ...newNode })
  t.equal(mismatch.status, 400, 'the body id must match the URL id')
  const badId = await call('DELETE', '/api/v1/nodes/%24where', ADMIN)
  t.equal(badId.status, 400)
  t.same(await adminFields(), before, 'nodes unchanged')
  t.equal(await system.store.collections.audit.countDocuments({}), auditBefore, 'no audit record')
})

t.test('create, update and delete, each audited', async (t) => {
  const created = await call('POST', '/api/v1/nodes', ADMIN, newNode)
  t.equal(created.status, 201)
  t.equal(created.json.has_key, true)
  t.notOk('key' in created.json)
  const stored = await system.store.collections.nodes.findOne({ _id: 'node-paris-1' })
  t.equal(stored?.key_hash, hashToken(newNode.key), 'the key is stored hashed')
  const again = await call('POST', '/api/v1/nodes', ADMIN, newNode)
  t.equal(again.status, 409)
  t.equal(again.json.error.code, 'GW_CONFLICT')

  const { key: _key, ...withoutKey } = newNode
  const updated = await call('PUT', '/api/v1/nodes/node-paris-1', ADMIN, { ...withoutKey, weight: 7 })
  t.equal(updated.status, 200)
  t.equal(updated.json.weight, 7)
  t.equal((await system.store.collections.nodes.findOne({ _id: 'node-paris-1' }))?.key_hash, hashToken(newNode.key), 'a replace without key keeps the key')

  const deleted = await call('DELETE', '/api/v1/nodes/node-paris-1', ADMIN)
  t.equal(deleted.status, 204)
  t.equal((await call('DELETE', '/api/v1/nodes/node-paris-1', ADMIN)).status, 404)

  const audit = await system.store.collections.audit.find({ id: 'node-paris-1' }).sort({ at: 1 }).toArray()
  t.same(audit.map((a) => a.action), ['create', 'update', 'delete'])
  t.ok(audit.every((a) => a.actor === 'admin:demo-admin' && a.collection === 'nodes'))
  t.match(audit[1], { before: { weight: 3 }, after: { weight: 7 } })
  t.notOk(JSON.stringify(audit).includes(newNode.key), 'the audit log never holds a key')
})

t.test('every admin collection takes writes', async (t) => {
  const bodies: Array<[string, Record<string, unknown>]> = [
    ['geo-groups', { _id: 'asia', name: 'Asia', coordinates: { lat: 35.68, lon: 139.69 }, match: { countries: ['JP'], regions: [], cities: [], cidrs: ['203.0.113.0/24'] }, fallback: { groups: [], to_closest: true, limit: 1 }, default: false }],
    ['partners', { _id: 'acme', name: 'Acme', pattern_fallbacks: { archive: ['streaming'] } }],
    ['tariffs', { _id: 'gold', formats: ['flv', 'hls', 'ws-fmp4'], patterns: ['streaming'], max_concurrent_streams: 10 }],
    ['accounts', { _id: 'acct-acme', tariff: 'gold', status: 'active' }]
  ]
  for (const [path, body] of bodies) {
    const answer = await call('POST', `/api/v1/${path}`, ADMIN, body)
    t.equal(answer.status, 201, `create ${path}`)
    const read = await call('GET', `/api/v1/${path}/${String(body._id)}`, VIEWER)
    t.same(read.json, body, `read back ${path}`)
  }
})

t.test('the route explainer lists every candidate with a reason and the winner', async (t) => {
  await system.store.collections.nodes.updateOne({ _id: 'node-moscow-2' }, { $set: { enabled: false } })
  await system.gateway.refreshSnapshot()
  const answer = await call('GET', '/api/v1/route?ip=77.88.8.8&server=UIN-DEMO-1&camera=cam-1&format=flv', VIEWER)
  t.equal(answer.status, 200)
  const body = answer.json
  t.equal(body.location.country_code, 'RU')
  t.equal(body.groups[0], 'ru-central')
  t.same(body.chosen, { node: 'node-moscow-1', group: 'ru-central', pattern: 'streaming' })
  const byNode = new Map(body.candidates.map((c: { node: string }) => [c.node, c]))
  t.match(byNode.get('node-moscow-2'), { eligible: false, reason: 'disabled', score: null })
  t.match(byNode.get('node-moscow-1'), { eligible: true, reason: 'chosen' })
  t.ok(body.candidates.every((c: { reason: string }) => typeof c.reason === 'string' && c.reason.length > 0))
  const anonymous = await call('GET', '/api/v1/route?ip=77.88.8.8&server=UIN-DEMO-1')
  t.equal(anonymous.status, 401)
  const bad = await call('GET', '/api/v1/route?ip=not-an-ip&server=UIN-DEMO-1', VIEWER)
  t.equal(bad.status, 400)
})
