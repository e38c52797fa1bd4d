// The route explainer shows the pathways an HLS viewer would be offered, in order, and they are
// the ones the stream request offers: compared, through a real gateway (resolver, auth-server,
// embedded store, HTTP), with the PATHWAY-IDs of the multivariant playlist a viewer at the same
// address is sent to, and with the alternates of a JSON answer; across groups when the client's
// group has a single node, without a node that may not take viewers, empty when none can.

import t from 'tap'
import { request } from 'undici'
import { get, startSystem, type Answer } from '../../helpers/system.js'

const MOSCOW = '77.88.8.8'
const LONDON = '81.2.69.160'
const system = await startSystem(t)
const base = system.gatewayUrl

function expect (answer: Answer, status: number): Answer {
  if (answer.status !== status) throw new Error(`expected ${status}, got ${answer.status} ${answer.body}`)
  return answer
}

interface Pathway { node: string, group: string, pattern: string, pathway: string }

async function explain (ip: string, format: string): Promise<{ chosen: { node: string } | null, pathways: Pathway[] }> {
  const answer = await get(`${base}/api/v1/route?ip=${ip}&server=UIN-DEMO-1&camera=cam-1&format=${format}`, { headers: { authorization: 'Bearer demo-admin-token' } })
  return expect(answer, 200).json()
}

function ask (format: string, from: string, query: Record<string, string> = {}): Promise<Answer> {
  const q = new URLSearchParams({ server: 'UIN-DEMO-1', camera: 'cam-1', access_token: 'demo-viewer-token', ...query })
  return get(`${base}/${format}?${q.toString()}`, { headers: { 'x-forwarded-for': from } })
}

/** The PATHWAY-IDs of the multivariant playlist an HLS viewer at `from` is sent to, in order. */
async function playlistPathways (from: string): Promise<string[]> {
  const answer = expect(await ask('hls', from), 302)
  const playlist = expect(await get(`${base}${String(answer.headers.location)}`), 200)
  return [...playlist.body.matchAll(/^#EXT-X-STREAM-INF:.*PATHWAY-ID="([^"]+)"/gm)].map((m) => m[1] as string)
}

/** The node ids behind a JSON answer's alternates, by their hosts. */
async function alternateNodes (format: string, from: string): Promise<string[]> {
  const answer = expect(await ask(format, from, { redirect: 'false' }), 200)
  const nodes = await system.store.collections.nodes.find({}, { projection: { host: 1 } }).toArray()
  return (answer.json().alternates as string[]).map((url) => nodes.find((n) => n.host === new URL(url).hostname)?._id ?? `unknown host ${url}`)
}

async function setEnabled (node: string, enabled: boolean): Promise<void> {
  const res = await request(`${base}/api/v1/nodes/${node}`, {
    method: 'PATCH',
    headers: { authorization: 'Bearer demo-admin-token', 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ enabled })
  })
  const body = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`PATCH ${node}: ${res.statusCode} ${body}`)
  await system.gateway.refreshSnapshot()
}

t.test('format=hls: the chosen node, then the alternates, in the order the viewer\'s playlist lists them', async (t) => {
  const explained = await explain(MOSCOW, 'hls')
  t.equal(explained.pathways[0]?.node, explained.chosen?.node, 'the chosen node first')
  t.equal(explained.pathways.length, 4, 'the chosen node and STEERING_PATHWAYS (3) alternates')
  t.same(explained.pathways.map((p) => p.pathway), await playlistPathways(MOSCOW), 'the playlist\'s pathways, in its order')
  t.same(explained.pathways.slice(0, 2).map((p) => p.group), ['ru-central', 'ru-central'], 'the group\'s own nodes before its fallbacks\'')
  t.equal(new Set(explained.pathways.map((p) => p.node)).size, 4, 'no node twice')
})

t.test('a group with one node: the pathways come from its fallback groups, as a JSON answer\'s alternates do', async (t) => {
  const explained = await explain(LONDON, 'hls')
  t.equal(explained.pathways[0]?.node, 'node-london-1')
  t.ok(explained.pathways.length >= 2, `alternates beside the London node: ${explained.pathways.map((p) => p.node).join(', ')}`)
  t.ok(explained.pathways.slice(1).every((p) => p.group !== explained.pathways[0]?.group), 'each from another group')
  t.same(explained.pathways.map((p) => p.pathway), await playlistPathways(LONDON), 'the London viewer\'s playlist')
  const ws = await explain(LONDON, 'ws-fmp4')
  t.same(ws.pathways.slice(1).map((p) => p.node), await alternateNodes('ws-fmp4', LONDON), 'after the first, a JSON answer\'s alternates, in order')
})

t.test('a node that may not take viewers is no pathway, for the explainer and the stream request alike', async (t) => {
  const before = await explain(MOSCOW, 'hls')
  const left = before.pathways[1]?.node ?? ''
  await setEnabled(left, false)
  t.teardown(() => setEnabled(left, true))
  const after = await explain(MOSCOW, 'hls')
  t.notOk(after.pathways.some((p) => p.node === left), `${left} is gone from the pathways`)
  t.same(after.pathways.map((p) => p.pathway), await playlistPathways(MOSCOW), 'and from the playlist')
})

t.test('no node can take the stream: no pathways', async (t) => {
  const answer = await get(`${base}/api/v1/route?ip=${MOSCOW}&server=UIN-DEMO-1&camera=cam-1&format=hls&pattern=analytics`, { headers: { authorization: 'Bearer demo-admin-token' } })
  const explained = expect(answer, 200).json()
  t.equal(explained.chosen, null, 'no node has the analytics role')
  t.same(explained.pathways, [])
})
