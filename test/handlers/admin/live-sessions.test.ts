// GET and DELETE /api/v1/sessions: every live play, hook plays and HLS sessions alike, listed
// with who watches what from where, filtered, paged and counted; an operator ends one, its slot
// is free at once, every replica refuses the HLS session's next request, and the audit trail
// says who ended it. Two gateways on one store; the test's clock stands still unless moved.

import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { hashToken } from '../../../src/auth/token-hash.js'
import type { Config } from '../../../src/config.js'
import { demoNodeKey } from '../../../src/demo/demo-data.js'
import { createGateway } from '../../../src/gateway.js'
import { cityFixture } from '../../fixtures/mmdb/paths.js'
import { startSystem } from '../../helpers/system.js'
import { accountWithLimit, hookUrl, NODE, postJson, testSigner } from '../node/hook-fixtures.js'

let clock = Date.parse('2030-01-01T00:00:00Z')
const now = (): number => clock
const config: Partial<Config> = { sessionEndPollMs: 50, sessionGuardMs: 0 }
const system = await startSystem(t, { now, config })
const signer = testSigner(now)
const A = system.gateway.app
const otherReplica = await createGateway({ config: { ...system.config, cityDatabase: cityFixture }, store: system.store, now, defaultMetrics: false })
t.teardown(() => otherReplica.close())
const B = otherReplica.app

const ADMIN = 'demo-admin-token'
const READER = 'sessions-reader-token'
await system.store.collections.tokens.insertOne({
  _id: hashToken(READER), owner_type: 'admin', owner_id: 'ops-reader', grants: [{ object_type: 'gateway', object_id: '*', rights: ['read'] }], expires_at: null
})
const VIEWER_TOKEN = 'a-viewer-token-that-must-never-be-shown'
const TID = hashToken(VIEWER_TOKEN)

async function api (method: 'GET' | 'DELETE', url: string, token: string | null = ADMIN, app = A): Promise<{ status: number, json: () => any }> {
  const answer = await app.inject({ method, url: `/api/v1${url}`, headers: token === null ? {} : { authorization: `Bearer ${token}` } })
  return { status: answer.statusCode, json: () => answer.json() }
}

let jtis = 0
function hlsGrant (owner: string): string {
  return signer.sign({ own: owner, fmt: 'hls', jti: `live-${++jtis}`, tid: TID })
}

async function verifyHls (grant: string, address: string, app = A, file = 'index.m3u8'): Promise<{ status: number, code?: string }> {
  const answer = await app.inject({
    method: 'GET',
    url: '/verify',
    headers: { 'x-original-uri': `/hls/${grant}/UIN-DEMO-1/cam-1/${file}`, 'x-geogate-node': NODE, 'x-real-ip': address, authorization: `Bearer ${demoNodeKey(NODE)}` }
  })
  return answer.statusCode === 204 ? { status: 204 } : { status: answer.statusCode, code: answer.json().error.code }
}

async function srsPlay (owner: string, clientId: string, ip: string): Promise<void> {
  const sig = signer.sign({ own: owner, tid: TID })
  const answer = await postJson(hookUrl(system, '/hooks/srs'), {
    action: 'on_play', client_id: clientId, ip, app: 'live', stream: 'UIN-DEMO-1_cam-1', param: `?server=UIN-DEMO-1&camera=cam-1&sig=${sig}`
  })
  if (answer.json().code !== 0) throw new Error(`the play was refused: ${answer.body}`)
}

/** Waits for a condition, up to a deadline. */
async function until (what: string, condition: () => Promise<boolean>, deadlineMs = 5000): Promise<number> {
  const started = Date.now()
  while (!await condition()) {
    if (Date.now() - started > deadlineMs) throw new Error(`not within ${deadlineMs} ms: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return Date.now() - started
}

t.test('every live play is listed: hook plays and HLS sessions, with token id, address and country', async (t) => {
  const owner = await accountWithLimit(system, null)
  await srsPlay(owner, 'srs-list-1', '77.88.8.8')
  clock += 1000
  t.equal((await verifyHls(hlsGrant(owner), '81.2.69.160')).status, 204)
  clock += 1000

  const answer = await api('GET', `/sessions?account=${owner}`)
  t.equal(answer.status, 200)
  const { items, next, counts } = answer.json()
  t.equal(items.length, 2)
  t.equal(next, null)
  const hook = items.find((s: any) => s.kind === 'hook')
  const hls = items.find((s: any) => s.kind === 'hls')
  t.match(hook, {
    account: owner,
    token_id: TID,
    server: 'UIN-DEMO-1',
    camera: 'cam-1',
    node: NODE,
    format: 'flv',
    client_id: 'srs-list-1',
    address: '77.88.8.8',
    country: 'RU',
    started_at: new Date(clock - 2000).toISOString(),
    last_seen: new Date(clock - 2000).toISOString()
  })
  t.match(hls, { account: owner, token_id: TID, node: NODE, format: 'hls', address: '81.2.69.160', country: 'GB', started_at: new Date(clock - 1000).toISOString() })
  t.type(hls.id, 'string')
  t.same(counts, { total: 2, nodes: [{ node: NODE, sessions: 2 }], cameras: [{ server: 'UIN-DEMO-1', camera: 'cam-1', sessions: 2 }], accounts: [{ account: owner, sessions: 2 }] })
  t.notMatch(JSON.stringify(answer.json()), VIEWER_TOKEN, 'the token itself is never shown')

  // A heartbeat vouches for the node's plays: last seen moves; an HLS session's requests move its own.
  clock += 5000
  const beat = await A.inject({ method: 'POST', url: `/api/v1/nodes/${NODE}/heartbeat`, headers: { authorization: `Bearer ${demoNodeKey(NODE)}` }, payload: { sessions: 1, mbps: 1, cpu: 1 } })
  t.equal(beat.statusCode, 200)
  const after = (await api('GET', `/sessions?account=${owner}&format=flv`)).json().items
  t.equal(after[0].last_seen, new Date(clock).toISOString(), 'the heartbeat is when the hook play was last seen')
})

t.test('filters, pages and counts', async (t) => {
  const owner = await accountWithLimit(system, null)
  for (let i = 0; i < 5; i++) await srsPlay(owner, `srs-page-${i}`, `198.51.100.${i + 1}`)
  t.equal((await verifyHls(hlsGrant(owner), '198.51.100.99')).status, 204)

  const all = (await api('GET', `/sessions?account=${owner}`)).json()
  t.equal(all.items.length, 6)
  t.equal(all.counts.total, 6)
  t.equal((await api('GET', `/sessions?account=${owner}&format=hls`)).json().items.length, 1, 'by format')
  t.equal((await api('GET', `/sessions?account=${owner}&node=node-london-1`)).json().counts.total, 0, 'by node')
  t.equal((await api('GET', `/sessions?account=${owner}&server=UIN-DEMO-1&camera=cam-2`)).json().items.length, 0, 'by camera')
  t.equal((await api('GET', `/sessions?account=${owner}&server=UIN-DEMO-1&camera=cam-1`)).json().items.length, 6)
  t.ok((await api('GET', '/sessions')).json().counts.accounts.some((a: any) => a.account === owner && a.sessions === 6), 'counts per account, unfiltered')

  const seen: string[] = []
  let after: string | null = null
  do {
    const query: string = `/sessions?account=${owner}&limit=4${after === null ? '' : `&after=${encodeURIComponent(after)}`}`
    const page: any = (await api('GET', query)).json()
    t.ok(page.items.length <= 4)
    t.equal(page.counts.total, 6, 'each page counts the whole filter')
    seen.push(...page.items.map((s: any) => s.id))
    after = page.next
  } while (after !== null)
  t.same(seen.sort(), all.items.map((s: any) => s.id).sort(), 'two pages hold every session once')

  t.equal((await api('GET', '/sessions?format=rtsp')).status, 400, 'an unknown format')
  t.equal((await api('GET', '/sessions?account={"$ne":1}')).status, 400, 'no operator reaches a query')
  t.equal((await api('GET', '/sessions?limit=0')).status, 400)
})

t.test('read looks, admin ends', async (t) => {
  const owner = await accountWithLimit(system, null)
  await srsPlay(owner, 'srs-roles', '198.51.100.7')
  const id = (await api('GET', `/sessions?account=${owner}`)).json().items[0].id
  t.equal((await api('GET', '/sessions', null)).status, 401, 'no token')
  t.equal((await api('GET', '/sessions', 'demo-viewer-token')).status, 403, 'a viewer\'s token')
  t.equal((await api('GET', '/sessions', READER)).status, 200, 'read')
  t.equal((await api('DELETE', `/sessions/${encodeURIComponent(id)}`, READER)).status, 403, 'read may not end')
  t.equal((await api('DELETE', `/sessions/${encodeURIComponent(id)}`, null)).status, 401)
  t.equal((await api('GET', `/sessions?account=${owner}`)).json().items.length, 1, 'still live')
})

t.test('ending an HLS session: its slot at once, every replica within seconds, audited', async (t) => {
  const owner = await accountWithLimit(system, 1)
  const first = hlsGrant(owner)
  t.equal((await verifyHls(first, '203.0.113.10')).status, 204, 'the viewer plays on replica A')
  t.equal((await verifyHls(first, '203.0.113.10', B, 'seg-1.ts')).status, 204, 'and on replica B, which now holds it in memory')
  const second = hlsGrant(owner)
  t.match(await verifyHls(second, '203.0.113.11'), { status: 403, code: 'GW_FORBIDDEN' }, 'a second viewer: the account is at its limit')

  const [session] = (await api('GET', `/sessions?account=${owner}`)).json().items
  const ended = await api('DELETE', `/sessions/${encodeURIComponent(session.id)}`)
  t.equal(ended.status, 200)
  t.match(ended.json(), { id: session.id, kind: 'hls', ended_at: new Date(clock).toISOString(), viewer: 'refused' })

  t.match(await verifyHls(first, '203.0.113.10', A, 'seg-2.ts'), { status: 403, code: 'GW_SESSION_ENDED' }, 'replica A refuses at once')
  const waited = await until('replica B refuses the ended session', async () => (await verifyHls(first, '203.0.113.10', B, 'seg-2.ts')).code === 'GW_SESSION_ENDED')
  t.ok(waited < 5000, `replica B refused it ${waited} ms after the end`)
  t.equal((await verifyHls(second, '203.0.113.11')).status, 204, 'the slot was free at once: the second viewer plays')
  t.equal((await api('GET', `/sessions?account=${owner}`)).json().items.length, 1, 'only the second is listed')
  clock += 20_000
  t.match(await verifyHls(first, '203.0.113.10', B, 'seg-9.ts'), { status: 403, code: 'GW_SESSION_ENDED' }, 'and stays refused')

  const audit = (await api('GET', `/audit?collection=sessions&id=${encodeURIComponent(session.id)}`)).json().items
  t.equal(audit.length, 1)
  t.match(audit[0], { actor: 'admin:demo-admin', action: 'end', collection: 'sessions', id: session.id, before: { account: owner, kind: 'hls' }, after: { end_reason: 'ended' } })
  t.equal((await api('DELETE', `/sessions/${encodeURIComponent(session.id)}`)).status, 404, 'ended once')
  t.equal((await api('DELETE', '/sessions/no-such-session')).status, 404)
})

t.test('ending a hook play without a control URL: ended, slot free, the answer says it plays on', async (t) => {
  const owner = await accountWithLimit(system, 1)
  await srsPlay(owner, 'srs-no-control', '198.51.100.20')
  const [session] = (await api('GET', `/sessions?account=${owner}`)).json().items
  const ended = await api('DELETE', `/sessions/${encodeURIComponent(session.id)}`)
  t.match(ended.json(), { kind: 'hook', viewer: 'not_dropped', message: /no control URL/ })
  await srsPlay(owner, 'srs-no-control-2', '198.51.100.21')
  t.pass('the account\'s one slot took another play at once')
})

/** A loopback HTTP server that records each request and answers as answer says. */
async function recorder (t: Test, answer: (req: http.IncomingMessage) => { status: number, body: string }): Promise<{ url: string, requests: Array<{ method: string, url: string }> }> {
  const requests: Array<{ method: string, url: string }> = []
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '' })
    const { status, body } = answer(req)
    res.writeHead(status, { 'content-type': body.startsWith('{') ? 'application/json' : 'text/plain' }).end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }
}

async function setControl (control: { kind: string, url: string } | null): Promise<number> {
  const answer = await A.inject({ method: 'PATCH', url: `/api/v1/nodes/${NODE}`, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/merge-patch+json' }, payload: JSON.stringify({ control }) })
  return answer.statusCode
}

t.test('SRS: an ended hook play is kicked with DELETE /api/v1/clients/{id} (a recorded contract of SRS\'s documented HTTP API, not a running SRS)', async (t) => {
  // As SRS documents its HTTP API's "kickoff client": DELETE /api/v1/clients/{id}, answered
  // {"code": 0} once the client is kicked. Recorded here: no SRS runs in the tests.
  const srs = await recorder(t, () => ({ status: 200, body: '{"code":0}' }))
  t.equal(await setControl({ kind: 'srs', url: srs.url }), 200)
  t.teardown(async () => { await setControl(null) })
  const owner = await accountWithLimit(system, null)
  await srsPlay(owner, 'vid-3k7q2m', '198.51.100.30')
  const [session] = (await api('GET', `/sessions?account=${owner}`)).json().items
  const ended = await api('DELETE', `/sessions/${encodeURIComponent(session.id)}`)
  t.match(ended.json(), { kind: 'hook', viewer: 'dropped' })
  t.same(srs.requests, [{ method: 'DELETE', url: '/api/v1/clients/vid-3k7q2m' }], 'the documented request, for the client id SRS\'s on_play named')
})

t.test('nginx-rtmp: GET {control}/drop/client?clientid=ID; a count of 0 or a failing node is said, and the session is ended anyway', async (t) => {
  let dropped = '1'
  let status = 200
  const rtmp = await recorder(t, () => ({ status, body: dropped }))
  t.equal(await setControl({ kind: 'nginx-rtmp', url: `${rtmp.url}/control` }), 200)
  t.teardown(async () => { await setControl(null) })
  const owner = await accountWithLimit(system, null)
  const endPlay = async (clientId: string): Promise<any> => {
    await srsPlay(owner, clientId, '198.51.100.31')
    const session = (await api('GET', `/sessions?account=${owner}`)).json().items.find((s: any) => s.client_id === clientId)
    return (await api('DELETE', `/sessions/${encodeURIComponent(session.id)}`)).json()
  }
  t.match(await endPlay('41'), { viewer: 'dropped' })
  t.same(rtmp.requests.at(-1), { method: 'GET', url: '/control/drop/client?clientid=41' })
  dropped = '0'
  t.match(await endPlay('42'), { viewer: 'not_dropped', message: /dropped no client/ })
  status = 500
  t.match(await endPlay('43'), { viewer: 'not_dropped', message: /500/ })
  t.equal((await api('GET', `/sessions?account=${owner}`)).json().items.length, 0, 'all three ended')
})

t.test('a control URL is checked like every URL the API stores', async (t) => {
  for (const url of ['ftp://node/control', 'http://user:pass@node:1985', 'http://node/control?x=1', 'not a url']) {
    t.equal(await setControl({ kind: 'srs', url }), 400, url)
  }
  t.equal(await setControl({ kind: 'wowza', url: 'http://node:8086' } as any), 400, 'an unknown kind')
  t.notOk((await api('GET', `/nodes/${NODE}`)).json().control, 'nothing stored')
})
