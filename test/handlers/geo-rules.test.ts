// Geo rules end to end: rules written through the admin API on a tariff, an account and a
// camera; the narrowest decides at the redirect (the client's location from the resolver) and
// again at GET /verify (the country of the address the node reports, from the gateway's own
// MaxMind database), where a warm session's check reads nothing from the store; the route
// explainer names the rule that decided; codes the API cannot read are 400 and store nothing.
// The real resolver, auth-server and embedded store; the bundled GeoLite2 knows 77.88.8.8 (RU)
// and 81.2.69.160 (GB). Caches expire by the test's clock.

import t from 'tap'
import type { CommandStartedEvent } from 'mongodb'
import { request } from 'undici'
import { createToken } from '../../src/auth/token-admin.js'
import { demoNodeKey } from '../../src/demo/demo-data.js'
import { hookUrl, postJson, type Posted } from './node/hook-fixtures.js'
import { get, markDemoNodesAlive, startSystem, type Answer } from '../helpers/system.js'

const MOSCOW = '77.88.8.8'
const LONDON = '81.2.69.160'
const PRIVATE = '10.1.2.3'
const ADMIN = 'demo-admin-token'

let clock = Date.now()
const now = (): number => clock
// The replica's own background reads of sessions (the watch for ended ones, the guard of revoked
// tokens) are off: what is counted below is what the checks read.
const system = await startSystem(t, { now, config: { authTimeoutMs: 5000, resolverTimeoutMs: 5000, sessionEndPollMs: 0, sessionGuardMs: 0 } })
const base = system.gatewayUrl
const { accounts, tariffs, servers, audit } = system.store.collections

await tariffs.insertOne({ _id: 'geo-tariff', formats: ['flv', 'hls', 'ws-fmp4'], patterns: ['streaming'], max_concurrent_streams: null })
await accounts.insertOne({ _id: 'acct-geo', tariff: 'geo-tariff', status: 'active' })
await servers.insertOne({
  _id: 'UIN-GEO',
  partner: 'demo',
  owner: 'acct-geo',
  dc: 'msk',
  online: true,
  cameras: { 'cam-a': { online: true, streams: ['main'] }, 'cam-b': { online: true, streams: ['main'] } }
})
const { token: viewer } = await createToken(system.store.collections.tokens, {
  owner_type: 'account', owner_id: 'acct-geo', grants: [{ object_type: 'camera', object_id: 'UIN-GEO/*', rights: ['view'] }]
})

/** Past every cache's TTL (server records, billing), with the nodes still alive. */
async function later (ms = 5000): Promise<void> {
  clock += ms
  await markDemoNodesAlive(system.store, new Date(clock))
  await system.gateway.refreshSnapshot()
}

async function admin (method: 'POST' | 'PUT' | 'PATCH' | 'GET', path: string, body?: unknown): Promise<{ status: number, json: any }> {
  const res = await request(`${base}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) })
  })
  const text = await res.body.text()
  return { status: res.statusCode, json: text === '' ? null : JSON.parse(text) }
}

/** Sets (or with null lifts) the geo rule of a tariff, an account or a camera, and lets caches expire. */
async function rule (where: 'tariff' | 'account' | 'cam-a' | 'cam-b', rule: Record<string, string[]> | null): Promise<void> {
  // A merge patch: the list not named is removed, or the two would be merged.
  const geo = rule === null ? null : { allow: null, deny: null, ...rule }
  const answer = where === 'tariff'
    ? await admin('PATCH', '/tariffs/geo-tariff', { geo })
    : where === 'account'
      ? await admin('PATCH', '/accounts/acct-geo', { geo })
      : await admin('PATCH', '/servers/UIN-GEO', { cameras: { [where]: { geo } } })
  if (answer.status !== 200) throw new Error(`setting the ${where} rule: ${answer.status} ${JSON.stringify(answer.json)}`)
  await later()
}

function stream (camera: string, from: string, format = 'flv'): Promise<Answer> {
  const query = new URLSearchParams({ server: 'UIN-GEO', camera, access_token: viewer })
  return get(`${base}/${format}?${query.toString()}`, { headers: { 'x-forwarded-for': from } })
}

async function outcome (camera: string, from: string): Promise<string> {
  const answer = await stream(camera, from)
  return answer.status === 302 ? 'redirect' : `${answer.status} ${answer.json().error.code as string}`
}

const BLOCKED = '403 GW_GEO_BLOCKED'

t.test('the narrowest rule decides at the redirect: camera, else account, else tariff', async (t) => {
  t.equal(await outcome('cam-a', MOSCOW), 'redirect', 'no rule: everyone')

  await rule('tariff', { allow: ['GB'] })
  t.equal(await outcome('cam-a', MOSCOW), BLOCKED, 'the tariff allows only GB')
  t.equal(await outcome('cam-a', LONDON), 'redirect')
  const refused = await stream('cam-a', MOSCOW)
  t.match(refused.json().error, { code: 'GW_GEO_BLOCKED', message: /tariff's geo rule does not allow viewers in RU/ })
  t.equal(refused.headers['cache-control'], 'no-store')

  await rule('account', { deny: ['GB'] })
  t.equal(await outcome('cam-a', MOSCOW), 'redirect', 'the account\'s rule replaces the tariff\'s')
  t.equal(await outcome('cam-a', LONDON), BLOCKED)

  await rule('cam-a', { allow: ['GB', 'FR'] })
  t.equal(await outcome('cam-a', LONDON), 'redirect', 'the camera\'s rule replaces the account\'s')
  t.equal(await outcome('cam-a', MOSCOW), BLOCKED)
  t.match((await stream('cam-a', MOSCOW)).json().error.message, /camera UIN-GEO\/cam-a's geo rule/)
  t.equal(await outcome('cam-b', LONDON), BLOCKED, 'a camera without a rule keeps the account\'s')
  t.equal(await outcome('cam-b', MOSCOW), 'redirect')

  await rule('cam-a', null)
  await rule('account', null)
  t.equal(await outcome('cam-a', MOSCOW), BLOCKED, 'rules lifted with null: the tariff\'s is back')
  await rule('tariff', null)
  t.equal(await outcome('cam-a', MOSCOW), 'redirect', 'and without it, everyone')
})

t.test('an unknown country fails an allow list and passes a deny list', async (t) => {
  await rule('account', { allow: ['RU'] })
  t.equal(await outcome('cam-a', PRIVATE), BLOCKED)
  t.match((await stream('cam-a', PRIVATE)).json().error.message, /from an unknown country/)
  await rule('account', { deny: ['RU'] })
  t.equal(await outcome('cam-a', PRIVATE), 'redirect')
  await rule('account', null)
})

t.test('the route explainer names the rule that decided', async (t) => {
  await rule('account', { deny: ['RU'] })
  await rule('cam-a', { allow: ['RU'] })
  const explain = async (camera: string, ip: string, account?: string): Promise<any> => {
    const query = new URLSearchParams({ ip, server: 'UIN-GEO', camera, ...(account !== undefined && { account }) })
    const answer = await admin('GET', `/route?${query.toString()}`)
    t.equal(answer.status, 200)
    return answer.json.access
  }
  t.same(await explain('cam-a', MOSCOW), { country: 'RU', account: 'acct-geo', rule: { source: 'camera', id: 'UIN-GEO/cam-a', allow: ['RU'] }, allowed: true })
  t.same(await explain('cam-b', MOSCOW), { country: 'RU', account: 'acct-geo', rule: { source: 'account', id: 'acct-geo', deny: ['RU'] }, allowed: false })
  t.same(await explain('cam-b', LONDON), { country: 'GB', account: 'acct-geo', rule: { source: 'account', id: 'acct-geo', deny: ['RU'] }, allowed: true })
  t.same(await explain('cam-b', MOSCOW, 'acct-demo'), { country: 'RU', account: 'acct-demo', rule: null, allowed: true }, 'another account asked about: its rules')
  await rule('cam-a', null)
  await rule('account', null)
})

/** A signed HLS URL for a client at from: the node and the path its /verify calls carry. */
async function hlsGrant (camera: string, from: string): Promise<{ node: string, path: (file: string) => string }> {
  const query = new URLSearchParams({ server: 'UIN-GEO', camera, access_token: viewer, redirect: 'false' })
  const answer = await get(`${base}/hls?${query.toString()}`, { headers: { 'x-forwarded-for': from } })
  if (answer.status !== 200) throw new Error(`redirect: ${answer.status} ${answer.body}`)
  const { url, node } = answer.json() as { url: string, node: { id: string } }
  // /hls/GRANT/SERVER/CAMERA/index.m3u8
  const prefix = new URL(url).pathname.split('/').slice(0, 5).join('/')
  return { node: node.id, path: (file) => `${prefix}/${file}` }
}

function verify (grant: { node: string, path: (file: string) => string }, file: string, viewerIp: string): Promise<Answer> {
  // As the node's nginx asks: with the node's key.
  return get(`${base}/verify`, {
    headers: { 'x-original-uri': grant.path(file), 'x-geogate-node': grant.node, 'x-real-ip': viewerIp, authorization: `Bearer ${demoNodeKey(grant.node)}` }
  })
}

t.test('/verify refuses a viewer in a blocked country for a granted session, and one whose country a new rule blocks', async (t) => {
  await rule('account', { deny: ['RU'] })
  const grant = await hlsGrant('cam-a', LONDON)
  t.equal((await verify(grant, 'index.m3u8', LONDON)).status, 204, 'the viewer the URL was made for plays')
  const moscow = await verify(grant, 'index.m3u8', MOSCOW)
  t.equal(moscow.status, 403, 'the URL passed to someone in Moscow is refused')
  t.equal(moscow.json().error.code, 'GW_GEO_BLOCKED')
  t.equal(await system.store.collections.sessions.countDocuments({ client_id: { $regex: MOSCOW.replaceAll('.', '\\.') } }), 0, 'and starts no session')

  // A warm session's segment checks read nothing from the store, rules included (the routing
  // snapshot's own polls of nodes and audit go on meanwhile, and are not theirs).
  const reads: string[] = []
  const checked = new Set(['accounts', 'tariffs', 'servers', 'sessions', 'session_slots', 'tokens'])
  const listener = (event: CommandStartedEvent): void => {
    const collection = String((event.command as Record<string, unknown>)[event.commandName])
    if (checked.has(collection)) reads.push(`${event.commandName} ${collection}`)
  }
  system.store.client.on('commandStarted', listener)
  try {
    for (let i = 0; i < 20; i++) t.equal((await verify(grant, `seg-${i}.ts`, LONDON)).status, 204)
  } finally {
    system.store.client.off('commandStarted', listener)
  }
  t.same(reads, [], 'no store command for twenty warm segments')

  // A rule made while the session plays stops it: the next checks take the new rule as soon
  // as a reload (started in the background by a check) brings it.
  t.equal((await admin('PATCH', '/accounts/acct-geo', { geo: { deny: ['RU', 'GB'] } })).status, 200)
  clock += 5000
  let refusedAt = -1
  for (let i = 0; i < 50 && refusedAt < 0; i++) {
    const answer = await verify(grant, `late-${i}.ts`, LONDON)
    if (answer.status === 403 && answer.json().error.code === 'GW_GEO_BLOCKED') refusedAt = i
    else if (answer.status !== 204) t.fail(`segment ${i}: ${answer.status} ${answer.body}`)
    else await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.ok(refusedAt >= 0 && refusedAt < 50, `refused from segment ${refusedAt} on`)
  t.equal((await verify(grant, 'later.ts', LONDON)).status, 403)
  await rule('account', null)
})

t.test('a play hook refuses a client address in a blocked country', async (t) => {
  await rule('account', { deny: ['RU'] })
  const query = new URLSearchParams({ server: 'UIN-GEO', camera: 'cam-a', access_token: viewer, redirect: 'false' })
  const answer = await get(`${base}/flv?${query.toString()}`, { headers: { 'x-forwarded-for': LONDON } })
  t.equal(answer.status, 200)
  const { url, node } = answer.json() as { url: string, node: { id: string } }
  const play = (clientId: string, ip: string): Promise<Posted> => postJson(hookUrl(system, '/hooks/srs', node.id, demoNodeKey(node.id)), {
    action: 'on_play', client_id: clientId, ip, app: 'live', stream: 'UIN-GEO_cam-a', param: new URL(url).search
  })
  t.same((await play('geo-1', LONDON)).json(), { code: 0 })
  const refused = (await play('geo-2', MOSCOW)).json()
  t.match(refused, { code: 403, error: { code: 'GW_GEO_BLOCKED' } })
  t.equal(await system.store.collections.sessions.countDocuments({ client_id: 'geo-2' }), 0, 'no session')
  await rule('account', null)
})

t.test('bad codes are 400 and store nothing', async (t) => {
  const before = await Promise.all([accounts.find({}).sort({ _id: 1 }).toArray(), tariffs.find({}).sort({ _id: 1 }).toArray(), servers.find({}).sort({ _id: 1 }).toArray(), audit.countDocuments()])
  const bad: unknown[] = [
    { allow: ['ru'] }, { deny: ['RUS'] }, { allow: ['R1'] }, { allow: [] }, { allow: ['RU'], deny: ['GB'] }, { allow: 'RU' },
    { block: ['RU'] }, { allow: ['RU', 'RU'] }, { deny: [7] }, 'RU', ['RU'], {}
  ]
  for (const geo of bad) {
    // As a merge patch, {} changes nothing: it is refused only where it is the whole rule.
    const patches = JSON.stringify(geo) === '{}' ? [] : ['patch']
    const cases: Array<[string, Promise<{ status: number, json: any }>]> = [
      ['create account', admin('POST', '/accounts', { _id: 'acct-bad', tariff: 'geo-tariff', geo })],
      ['create tariff', admin('POST', '/tariffs', { _id: 'tariff-bad', geo })],
      ...patches.flatMap((): Array<[string, Promise<{ status: number, json: any }>]> => [
        ['patch account', admin('PATCH', '/accounts/acct-geo', { geo })],
        ['patch tariff', admin('PATCH', '/tariffs/geo-tariff', { geo })],
        ['patch camera', admin('PATCH', '/servers/UIN-GEO', { cameras: { 'cam-a': { geo } } })]
      ]),
      ['replace account', admin('PUT', '/accounts/acct-geo', { _id: 'acct-geo', tariff: 'geo-tariff', status: 'active', geo })],
      ['create server', admin('POST', '/servers', { _id: 'UIN-BAD', partner: 'demo', owner: 'acct-geo', cameras: { c: { online: true, streams: [], geo } } })]
    ]
    for (const [what, answer] of cases) {
      const { status, json } = await answer
      t.equal(status, 400, `${what} with geo ${JSON.stringify(geo)}`)
      t.equal(json?.error?.code, 'GW_BAD_REQUEST')
      t.match(json?.error?.message, /geo/, 'the message names the field')
    }
  }
  const after = await Promise.all([accounts.find({}).sort({ _id: 1 }).toArray(), tariffs.find({}).sort({ _id: 1 }).toArray(), servers.find({}).sort({ _id: 1 }).toArray(), audit.countDocuments()])
  t.same(after, before, 'nothing stored, nothing audited')

  const good = await admin('POST', '/accounts', { _id: 'acct-good', tariff: 'geo-tariff', geo: { allow: ['RU', 'BY'] } })
  t.equal(good.status, 201)
  t.same(good.json.geo, { allow: ['RU', 'BY'] })
  t.same((await accounts.findOne({ _id: 'acct-good' }))?.geo, { allow: ['RU', 'BY'] })
})
