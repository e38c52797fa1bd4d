// The admin API made for people: merge patches checked whole, creates with defaults, node keys
// generated and rotated, servers and cameras, and the audit trail read back page by page.

import t from 'tap'
import { request } from 'undici'
import { hashToken } from '../../../src/auth/token-hash.js'
import { demoNodeKey } from '../../../src/demo/demo-data.js'
import { startSystem } from '../../helpers/system.js'

const system = await startSystem(t)
const base = system.gatewayUrl
const ADMIN = 'demo-admin-token'
const VIEWER = 'edit-viewer-token'
await system.store.collections.tokens.insertOne({
  _id: hashToken(VIEWER), owner_type: 'admin', owner_id: 'ops-viewer', grants: [{ object_type: 'gateway', object_id: '*', rights: ['read'] }], expires_at: null
})
const { nodes, servers, audit } = system.store.collections

async function call (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, token?: string, body?: unknown, type = 'application/json'): Promise<{ status: number, json: any }> {
  const headers: Record<string, string> = {}
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = type
  const res = await request(`${base}${path}`, { method, headers, ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }) })
  const text = await res.body.text()
  return { status: res.statusCode, json: text === '' ? null : JSON.parse(text) }
}

t.test('PATCH changes one field, with either media type, and is audited', async (t) => {
  const before = await nodes.findOne({ _id: 'node-moscow-1' })
  const answer = await call('PATCH', '/api/v1/nodes/node-moscow-1', ADMIN, { weight: 3 }, 'application/merge-patch+json')
  t.equal(answer.status, 200)
  t.equal(answer.json.weight, 3)
  t.equal(answer.json.host, before?.host, 'other fields kept')
  t.notOk('key_hash' in answer.json)
  const stored = await nodes.findOne({ _id: 'node-moscow-1' })
  t.equal(stored?.weight, 3)
  t.equal(stored?.key_hash, before?.key_hash, 'the key survives a patch')
  t.same(stored?.load, before?.load, 'liveness is not the admin\'s to patch')

  const nested = await call('PATCH', '/api/v1/nodes/node-moscow-1', ADMIN, { capacity: { sessions: 42 }, draining: true })
  t.equal(nested.status, 200)
  t.same(nested.json.capacity, { sessions: 42 })
  t.equal(nested.json.draining, true)

  const entries = await audit.find({ collection: 'nodes', id: 'node-moscow-1' }).sort({ _id: 1 }).toArray()
  t.match(entries[0], { action: 'update', actor: 'admin:demo-admin', before: { weight: 10 }, after: { weight: 3 } })
  t.notOk(JSON.stringify(entries).includes('key_hash'), 'no key hash in the audit')
  await call('PATCH', '/api/v1/nodes/node-moscow-1', ADMIN, { weight: 10, draining: false, capacity: { sessions: 1000 } })
})

t.test('a bad patch answers 400 with the reason and changes nothing', async (t) => {
  const before = await nodes.find({}).sort({ _id: 1 }).toArray()
  const auditBefore = await audit.countDocuments({})
  const bad: Array<[unknown, RegExp]> = [
    [{ weight: -1 }, /weight must be > 0/],
    [{ weight: 'heavy' }, /weight/],
    [{ port: 70000 }, /port/],
    [{ formats: ['mp4'] }, /formats/],
    [{ extra: 'field' }, /additional properties \(extra\)/],
    [{ host: null }, /host/],
    [{ _id: 'node-renamed' }, /_id cannot be changed/],
    [{ capacity: { sessions: -5 } }, /capacity\.sessions/],
    [[1, 2], /body must be object/],
    ['{not json', /JSON/]
  ]
  for (const [body, message] of bad) {
    const answer = await call('PATCH', '/api/v1/nodes/node-moscow-1', ADMIN, body)
    t.equal(answer.status, 400, `400 for ${JSON.stringify(body)}`)
    t.equal(answer.json.error.code, 'GW_BAD_REQUEST')
    t.match(answer.json.error.message, message)
  }
  t.equal((await call('PATCH', '/api/v1/nodes/node-nowhere', ADMIN, { weight: 2 })).status, 404)
  t.equal((await call('PATCH', '/api/v1/nodes/node-moscow-1', VIEWER, { weight: 2 })).status, 403)
  t.equal((await call('PATCH', '/api/v1/nodes/node-moscow-1', undefined, { weight: 2 })).status, 401)
  t.equal((await call('PATCH', '/api/v1/nodes/node-moscow-1', ADMIN, 'weight=2', 'text/plain')).status, 400, 'a body that is no JSON object')
  t.same(await nodes.find({}).sort({ _id: 1 }).toArray(), before, 'nodes unchanged')
  t.equal(await audit.countDocuments({}), auditBefore, 'no audit record')
})

t.test('PATCH works on every admin collection', async (t) => {
  const patches: Array<[string, string, Record<string, unknown>, Record<string, unknown>]> = [
    ['geo-groups', 'us-east', { match: { countries: ['US', 'CA', 'MX'] } }, { match: { countries: ['US', 'CA', 'MX'], regions: [] } }],
    ['partners', 'demo', { pattern_fallbacks: { archive: null, analytics: ['streaming'] } }, { pattern_fallbacks: { analytics: ['streaming'] } }],
    ['tariffs', 'single-stream', { max_concurrent_streams: 2 }, { max_concurrent_streams: 2 }],
    ['accounts', 'acct-limited', { status: 'suspended' }, { status: 'suspended', tariff: 'single-stream' }]
  ]
  for (const [path, id, patch, expected] of patches) {
    const answer = await call('PATCH', `/api/v1/${path}/${id}`, ADMIN, patch)
    t.equal(answer.status, 200, `patch ${path}`)
    t.match(answer.json, expected)
  }
  t.notOk((await call('GET', '/api/v1/partners/demo', VIEWER)).json.pattern_fallbacks.archive, 'null removed the key')
  const bad = await call('PATCH', '/api/v1/accounts/acct-limited', ADMIN, { status: 'gone' })
  t.equal(bad.status, 400)
  await call('PATCH', '/api/v1/accounts/acct-limited', ADMIN, { status: 'active' })
})

t.test('POST fills defaults: a node needs only _id, host and group', async (t) => {
  const created = await call('POST', '/api/v1/nodes', ADMIN, { _id: 'node-paris-1', host: 'paris-1.nodes.geogate.test', group: 'eu-west' })
  t.equal(created.status, 201)
  t.match(created.json, { port: 443, tls: true, patterns: ['streaming'], weight: 1, enabled: true, draining: false, partners: [], has_key: true, last_seen: null })
  t.same(created.json.formats, ['flv', 'hls', 'ws-fmp4'])
  t.type(created.json.key, 'string', 'a generated key is shown')
  t.ok(created.json.key.length >= 32)
  const stored = await nodes.findOne({ _id: 'node-paris-1' })
  t.equal(stored?.key_hash, hashToken(created.json.key), 'only its hash is stored')
  const read = await call('GET', '/api/v1/nodes/node-paris-1', VIEWER)
  t.notOk('key' in read.json, 'and it is never shown again')
  const entry = await audit.findOne({ collection: 'nodes', id: 'node-paris-1', action: 'create' })
  t.notOk(JSON.stringify(entry).includes(created.json.key), 'nor audited')

  const beat = await request(`${base}/api/v1/nodes/node-paris-1/heartbeat`, {
    method: 'POST', headers: { authorization: `Bearer ${String(created.json.key)}`, 'content-type': 'application/json' }, body: JSON.stringify({ sessions: 0, mbps: 0, cpu: 0 })
  })
  t.equal(beat.statusCode, 200, 'the generated key works for heartbeats')
  await beat.body.dump()

  const given = await call('POST', '/api/v1/nodes', ADMIN, { _id: 'node-paris-2', host: 'paris-2.nodes.geogate.test', group: 'eu-west', key: 'a-key-the-admin-chose-0123' })
  t.equal(given.status, 201)
  t.notOk('key' in given.json, 'a key the admin gave is not echoed')

  for (const body of [{ _id: 'node-x', host: 'x.test' }, { _id: 'node-x', host: 'x.test', group: 'eu-west', weight: 0 }, { host: 'x.test', group: 'eu-west' }]) {
    const answer = await call('POST', '/api/v1/nodes', ADMIN, body)
    t.equal(answer.status, 400, `400 for ${JSON.stringify(body)}`)
  }
  const group = await call('POST', '/api/v1/geo-groups', ADMIN, { _id: 'asia', coordinates: { lat: 35.68, lon: 139.69 } })
  t.equal(group.status, 201)
  t.match(group.json, { name: 'asia', default: false, fallback: { to_closest: true }, match: { countries: [] } })
  const tariff = await call('POST', '/api/v1/tariffs', ADMIN, { _id: 'bronze' })
  t.match(tariff.json, { max_concurrent_streams: null, patterns: ['streaming'] })
  const account = await call('POST', '/api/v1/accounts', ADMIN, { _id: 'acct-new', tariff: 'bronze' })
  t.match(account.json, { status: 'active' })
  const partner = await call('POST', '/api/v1/partners', ADMIN, { _id: 'acme' })
  t.same(partner.json, { _id: 'acme', name: 'acme', pattern_fallbacks: {} })
})

t.test('POST /api/v1/nodes/:id/key rotates the key: the old one stops working', async (t) => {
  const heartbeat = async (key: string): Promise<number> => {
    const res = await request(`${base}/api/v1/nodes/node-us-1/heartbeat`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ sessions: 0, mbps: 0, cpu: 0 })
    })
    await res.body.dump()
    return res.statusCode
  }
  t.equal(await heartbeat(demoNodeKey('node-us-1')), 200)
  t.equal((await call('POST', '/api/v1/nodes/node-us-1/key', VIEWER)).status, 403)
  t.equal((await call('POST', '/api/v1/nodes/node-nowhere/key', ADMIN)).status, 404)
  const rotated = await call('POST', '/api/v1/nodes/node-us-1/key', ADMIN)
  t.equal(rotated.status, 200)
  t.equal(rotated.json.node, 'node-us-1')
  t.equal(await heartbeat(demoNodeKey('node-us-1')), 401, 'the old key is refused')
  t.equal(await heartbeat(rotated.json.key), 200, 'the new key works')
  const entry = await audit.findOne({ collection: 'nodes', id: 'node-us-1' }, { sort: { _id: -1 } })
  t.match(entry, { action: 'update', after: { key_rotated: true } })
  t.notOk(JSON.stringify(entry).includes(rotated.json.key))
  // Put the demo key back: the test system keeps demo nodes alive through the store, not keys.
  await nodes.updateOne({ _id: 'node-us-1' }, { $set: { key_hash: hashToken(demoNodeKey('node-us-1')) } })
})

t.test('servers and cameras: create, patch a camera, delete', async (t) => {
  const created = await call('POST', '/api/v1/servers', ADMIN, { _id: 'UIN-NEW-1', partner: 'demo', owner: 'acct-demo', cameras: { 'cam-a': { online: true, streams: ['main'] } } })
  t.equal(created.status, 201)
  t.match(created.json, { online: true, dc: '', cameras: { 'cam-a': { online: true } } })
  const listed = await call('GET', '/api/v1/servers', VIEWER)
  t.same(listed.json.items.map((s: { _id: string }) => s._id), ['UIN-DEMO-1', 'UIN-NEW-1'])

  const offline = await call('PATCH', '/api/v1/servers/UIN-DEMO-1', ADMIN, { cameras: { 'cam-3': { online: true }, 'cam-2': null } })
  t.equal(offline.status, 200)
  const stored = await servers.findOne({ _id: 'UIN-DEMO-1' })
  t.same(Object.keys(stored?.cameras ?? {}).sort(), ['cam-1', 'cam-3'], 'null removed cam-2')
  t.same(stored?.cameras['cam-3'], { online: true, streams: ['main'] }, 'cam-3 online, its streams kept')

  for (const patch of [{ cameras: { 'cam-1': { online: 'yes' } } }, { cameras: { 'bad cam': { online: true, streams: [] } } }, { cameras: { 'cam-9': { online: true } } }, { partner: { $ne: '' } }]) {
    const answer = await call('PATCH', '/api/v1/servers/UIN-DEMO-1', ADMIN, patch)
    t.equal(answer.status, 400, `400 for ${JSON.stringify(patch)}`)
  }
  t.same(await servers.findOne({ _id: 'UIN-DEMO-1' }), stored, 'bad patches changed nothing')
  t.equal((await call('POST', '/api/v1/servers', ADMIN, { _id: 'UIN-NEW-2', partner: 'demo' })).status, 400, 'an owner is required')

  t.equal((await call('DELETE', '/api/v1/servers/UIN-NEW-1', ADMIN)).status, 204)
  t.equal(await servers.countDocuments({ _id: 'UIN-NEW-1' }), 0)
  await call('PATCH', '/api/v1/servers/UIN-DEMO-1', ADMIN, { cameras: { 'cam-2': { online: true, streams: ['main'] }, 'cam-3': { online: false } } })
})

t.test('GET /api/v1/audit: newest first, filtered, paged', async (t) => {
  t.equal((await call('GET', '/api/v1/audit')).status, 401)
  const all = await call('GET', '/api/v1/audit?limit=500', VIEWER)
  t.equal(all.status, 200)
  const total = await audit.countDocuments({})
  t.equal(all.json.items.length, total)
  t.equal(all.json.next, null)
  const times = all.json.items.map((e: { at: string }) => Date.parse(e.at))
  t.same(times, [...times].sort((a, b) => b - a), 'newest first')
  t.notOk(JSON.stringify(all.json).includes('key_hash'), 'no secrets in the trail')

  const pages: string[] = []
  let before: string | null = null
  do {
    const page: { json: { items: Array<{ entry: string }>, next: string | null } } = await call('GET', `/api/v1/audit?limit=3${before === null ? '' : `&before=${before}`}`, VIEWER)
    t.ok(page.json.items.length <= 3)
    pages.push(...page.json.items.map((e) => e.entry))
    before = page.json.next
  } while (before !== null)
  t.same(pages, all.json.items.map((e: { entry: string }) => e.entry), 'pages add up to the whole trail, in order')

  const servers = await call('GET', '/api/v1/audit?collection=servers&id=UIN-DEMO-1', VIEWER)
  t.ok(servers.json.items.length >= 2)
  t.ok(servers.json.items.every((e: { collection: string, id: string }) => e.collection === 'servers' && e.id === 'UIN-DEMO-1'))
  t.match(servers.json.items.at(-1), { action: 'update', before: { cameras: { 'cam-2': {} } } })

  for (const query of ['limit=0', 'limit=abc', 'before=xyz', 'collection=%24where', 'id[$ne]=x', 'other=1']) {
    t.equal((await call('GET', `/api/v1/audit?${query}`, VIEWER)).status, 400, `400 for ${query}`)
  }
})

t.test('GET /api/v1/session says whether a token may write', async (t) => {
  t.match((await call('GET', '/api/v1/session', ADMIN)).json, { actor: 'admin:demo-admin', can_write: true, node_ttl_s: system.config.nodeTtlS })
  t.match((await call('GET', '/api/v1/session', VIEWER)).json, { actor: 'admin:ops-viewer', can_write: false })
  t.equal((await call('GET', '/api/v1/session', 'demo-viewer-token')).status, 403, 'a stream token is no admin token')
  t.equal((await call('GET', '/api/v1/session')).status, 401)
})
