// HLS Content Steering through a real gateway (resolver, auth-server, embedded store, HTTP): the
// HLS answer's 302 to geogate's multivariant playlist, its shape (RFC 8216bis §4.4.6.6 and
// Apple's Content Steering specification), pathways across groups, one session id in every
// grant, the steering manifest ordered by the live state each time it is asked, its signed and
// leased URL (401, 403, 410), what the player reports (decision log, metrics), steering=off, and
// the alternates of JSON answers.

import { mkdtempSync, readFileSync, existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { demoNodeKey } from '../../../src/demo/demo-data.js'
import { get, markDemoNodesAlive, startSystem, type Answer } from '../../helpers/system.js'

const MOSCOW = '77.88.8.8'
const LONDON = '81.2.69.160'
const dir = mkdtempSync(path.join(os.tmpdir(), 'geogate-steering-'))
const decisions = path.join(dir, 'decisions.log')
let clock = Date.parse('2030-01-01T00:00:00Z')
const now = (): number => clock
const TTL_S = 4
const SIG_TTL_S = 30
const IDLE_S = 20
const MAX_S = 600
const system = await startSystem(t, {
  now,
  config: { steeringTtlS: TTL_S, signatureTtlS: SIG_TTL_S, hlsIdleS: IDLE_S, hlsSessionMaxS: MAX_S, decisionLog: decisions, decisionLogSample: 1 }
})
const base = system.gatewayUrl
const LEASE_S = 3 * TTL_S + IDLE_S

function ask (format: string, from: string, query: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<Answer> {
  const q = new URLSearchParams({ server: 'UIN-DEMO-1', camera: 'cam-1', access_token: 'demo-viewer-token', ...query })
  return get(`${base}/${format}?${q.toString()}`, { headers: { 'x-forwarded-for': from, ...headers } })
}

/** The HLS answer's Location: geogate's multivariant playlist, as a path. */
async function hlsSession (from: string, query: Record<string, string> = {}): Promise<string> {
  const answer = await ask('hls', from, query)
  if (answer.status !== 302) throw new Error(`${answer.status} ${answer.body}`)
  return String(answer.headers.location)
}

function claimsOf (jwt: string): Record<string, any> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'))
}

interface Variant { attributes: Record<string, string>, uri: string }

/** The playlist's tags by name, and its variants, with attribute lists read as the RFC says. */
function parsePlaylist (text: string): { lines: string[], steering: Record<string, string>, variants: Variant[] } {
  const lines = text.split('\n').filter((line) => line !== '')
  const attributes = (list: string): Record<string, string> => {
    const found: Record<string, string> = {}
    // AttributeName=AttributeValue, names [A-Z0-9-], values a decimal or a quoted string.
    for (const [, name = '', value = ''] of list.matchAll(/([A-Z0-9-]+)=("[^"\n]*"|[0-9.]+)(?:,|$)/g)) found[name] = value
    return found
  }
  const steeringLine = lines.find((line) => line.startsWith('#EXT-X-CONTENT-STEERING:')) ?? ''
  const variants: Variant[] = []
  lines.forEach((line, i) => {
    if (line.startsWith('#EXT-X-STREAM-INF:')) variants.push({ attributes: attributes(line.slice('#EXT-X-STREAM-INF:'.length)), uri: lines[i + 1] ?? '' })
  })
  return { lines, steering: attributes(steeringLine.slice('#EXT-X-CONTENT-STEERING:'.length)), variants }
}

async function fetchPath (p: string, headers: Record<string, string> = {}): Promise<Answer> {
  return await get(`${base}${p}`, { headers })
}

/** The manifest's URL for a playlist path, resolved as a player resolves SERVER-URI. */
function manifestPath (playlistPath: string, serverUri: string): string {
  return new URL(serverUri, `http://gateway${playlistPath}`).pathname
}

function lines (): Array<Record<string, unknown>> {
  if (!existsSync(decisions)) return []
  return readFileSync(decisions, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
}

async function beat (node: string, body: Record<string, unknown> = {}): Promise<void> {
  const res = await request(`${base}/api/v1/nodes/${node}/heartbeat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${demoNodeKey(node)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sessions: 0, mbps: 1, cpu: 5, ...body })
  })
  await res.body.dump()
}

async function patchNode (node: string, patch: Record<string, unknown>): Promise<void> {
  const res = await request(`${base}/api/v1/nodes/${node}`, {
    method: 'PATCH',
    headers: { authorization: 'Bearer demo-admin-token', 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify(patch)
  })
  t.equal(res.statusCode, 200, await res.body.text())
  await system.gateway.refreshSnapshot()
}

t.test('an HLS answer is a 302 to geogate\'s multivariant playlist; the playlist lists each pathway with its own grant of one session', async (t) => {
  const answer = await ask('hls', MOSCOW)
  t.equal(answer.status, 302)
  t.equal(answer.headers['cache-control'], 'no-store')
  t.equal(answer.headers['access-control-allow-origin'], '*')
  const location = String(answer.headers.location)
  t.match(location, /^\/hls\/steer\/UIN-DEMO-1\/cam-1\/[\w-]+\.[\w-]+\.[\w-]+\/index\.m3u8$/, 'a path on geogate, with the session\'s token in it')

  const playlist = await fetchPath(location, { origin: 'http://player.example' })
  t.equal(playlist.status, 200)
  t.match(playlist.headers['content-type'], /^application\/vnd\.apple\.mpegurl/)
  t.equal(playlist.headers['access-control-allow-origin'], '*', 'a browser player on another origin may read it')
  t.equal(playlist.headers['cache-control'], 'no-store')
  const { lines: tags, steering, variants } = parsePlaylist(playlist.body)
  t.equal(tags[0], '#EXTM3U', 'the first line')
  t.match(tags[1], /^#EXT-X-VERSION:\d+$/)
  t.equal(tags.filter((line) => line.startsWith('#EXT-X-CONTENT-STEERING:')).length, 1, 'one steering tag')
  t.same(Object.keys(steering).sort(), ['PATHWAY-ID', 'SERVER-URI'])
  t.equal(steering['SERVER-URI'], '"steering.json"', 'SERVER-URI, a quoted string, relative to the playlist')
  t.equal(steering['PATHWAY-ID'], '"node-moscow-1"', 'the chosen node first (the heavier Moscow node for cam-1)')

  const pathways = variants.map((v) => v.attributes['PATHWAY-ID'])
  t.same(pathways.slice(0, 2).sort(), ['"node-moscow-1"', '"node-moscow-2"'], 'the chosen node and the other of its group')
  t.equal(pathways[0], '"node-moscow-1"')
  t.ok(pathways.includes('"node-london-1"'), 'alternates from the fallback group too')
  t.equal(variants.length, 4, 'the chosen node and STEERING_PATHWAYS (3) alternates')
  const sids = new Set<string>()
  for (const variant of variants) {
    t.match(variant.attributes.BANDWIDTH, /^\d+$/, 'BANDWIDTH, a decimal integer, required')
    t.match(variant.attributes['PATHWAY-ID'], /^"[A-Za-z0-9._-]+"$/, 'a legal Pathway ID, quoted')
    const url = new URL(variant.uri)
    const [, hls, grant = '', server, camera, file] = url.pathname.split('/')
    t.same([url.protocol, hls, server, camera, file], ['https:', 'hls', 'UIN-DEMO-1', 'cam-1', 'index.m3u8'], 'the node\'s grant-in-path media playlist')
    const claims = claimsOf(grant)
    t.equal(`"${claims.aud as string}"`, variant.attributes['PATHWAY-ID'], 'a grant for that node')
    t.equal(claims.fmt, 'hls')
    sids.add(claims.sid)
  }
  t.equal(sids.size, 1, 'one session id in every grant')
  t.equal(claimsOf(location.split('/')[5] ?? '').sid, [...sids][0], 'the session the steering URL names')
})

t.test('the steering manifest: its shape, and the pathways by the live state each time it is asked', async (t) => {
  const playlistPath = await hlsSession(MOSCOW)
  const { steering } = parsePlaylist((await fetchPath(playlistPath)).body)
  const manifestUrl = manifestPath(playlistPath, JSON.parse(steering['SERVER-URI'] ?? '""'))
  const manifest = async (pathway?: string, throughput?: string): Promise<Answer> => {
    const q = new URLSearchParams({ ...(pathway !== undefined && { _HLS_pathway: pathway }), ...(throughput !== undefined && { _HLS_throughput: throughput }) })
    return await fetchPath(`${manifestUrl}?${q.toString()}`, { origin: 'http://player.example' })
  }
  const first = await manifest('node-moscow-1', '5400000')
  t.equal(first.status, 200)
  t.match(first.headers['content-type'], /^application\/json/)
  t.equal(first.headers['access-control-allow-origin'], '*')
  t.equal(first.headers['cache-control'], 'no-store')
  const body = first.json()
  t.same(Object.keys(body), ['VERSION', 'TTL', 'RELOAD-URI', 'PATHWAY-PRIORITY'])
  t.equal(body.VERSION, 1)
  t.equal(body.TTL, TTL_S)
  t.match(body['RELOAD-URI'], /^\.\.\/[\w-]+\.[\w-]+\.[\w-]+\/steering\.json$/, 'relative to the manifest, with the session\'s token')
  t.equal(body['PATHWAY-PRIORITY'][0], 'node-moscow-1')
  t.equal(body['PATHWAY-PRIORITY'].length, 4)

  await patchNode('node-moscow-1', { draining: true })
  const drained = (await manifest('node-moscow-1')).json()['PATHWAY-PRIORITY']
  t.equal(drained.at(-1), 'node-moscow-1', 'a draining node moves behind the others')
  t.equal(drained[0], 'node-moscow-2', 'the next of its group first')
  await patchNode('node-moscow-1', { draining: false })
  t.equal((await manifest('node-moscow-2')).json()['PATHWAY-PRIORITY'][0], 'node-moscow-2', 'a player that moved stays where it plays while that node is well')
  t.equal((await manifest()).json()['PATHWAY-PRIORITY'][0], 'node-moscow-1', 'a player naming no pathway: the order first offered')

  await patchNode('node-moscow-2', { enabled: false })
  t.equal((await manifest('node-moscow-2')).json()['PATHWAY-PRIORITY'].at(-1), 'node-moscow-2', 'a disabled node moves behind')
  await patchNode('node-moscow-2', { enabled: true })

  clock += 1000
  await beat('node-moscow-1', { sessions: 1000 })
  await beat('node-moscow-2')
  await system.gateway.refreshSnapshot()
  const full = (await manifest('node-moscow-1')).json()['PATHWAY-PRIORITY']
  t.ok(full.indexOf('node-moscow-1') > full.indexOf('node-moscow-2'), 'a full node (sessions at capacity) moves behind')
  await beat('node-moscow-1')

  // node-moscow-1 goes silent: NODE_TTL_S (15 s) without a heartbeat.
  for (const at of [clock + 2000, clock + 4000]) {
    clock = at
    await beat('node-moscow-2')
  }
  clock += 12_000
  await beat('node-moscow-2')
  await system.gateway.refreshSnapshot()
  const silent = (await manifest('node-moscow-1')).json()['PATHWAY-PRIORITY']
  t.ok(silent.indexOf('node-moscow-1') > silent.indexOf('node-moscow-2'), 'a silent node moves behind')
  await markDemoNodesAlive(system.store, new Date(clock))
  await system.gateway.refreshSnapshot()
})

t.test('what a player reports is in the decision log and the metrics', async (t) => {
  const line = lines().find((l) => l.event === 'steering' && l.throughput === 5400000)
  t.match(line, { event: 'steering', pathway: 'node-moscow-1', node: 'node-moscow-1', server: 'UIN-DEMO-1', camera: 'cam-1', format: 'hls', status: 200, owner: 'acct-demo' })
  const text = JSON.stringify(lines())
  t.notMatch(text, /demo-viewer-token|steering\.json|\.eyJ/, 'no token and no signed URL in the log')
  const metrics = (await system.gateway.app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metrics, /geogate_steering_manifests_total\{pathway="node-moscow-1",steer="stay"\} [1-9]/)
  t.match(metrics, /geogate_steering_manifests_total\{pathway="node-moscow-2",steer="stay"\} [1-9]/)
  t.match(metrics, /geogate_steering_throughput_bits_bucket\{le="8000000"\} [1-9]/)
})

t.test('a steering URL is signed, names its session, is leased and renewed; gone after its session', async (t) => {
  const playlistPath = await hlsSession(MOSCOW)
  const parts = playlistPath.split('/')
  const token = parts[5] ?? ''
  const manifestUrl = playlistPath.replace(/index\.m3u8$/, 'steering.json')
  const [h = '', p = '', s = ''] = token.split('.')
  const tampered = `${h}.${p}.${s.slice(0, 4)}${s[4] === 'A' ? 'B' : 'A'}${s.slice(5)}`
  t.equal((await fetchPath(manifestUrl.replace(token, tampered))).status, 401, 'tampered')
  const forged = `${h}.${Buffer.from(JSON.stringify({ ...claimsOf(token), pw: ['node-us-1'] })).toString('base64url')}.${s}`
  t.equal((await fetchPath(manifestUrl.replace(token, forged))).status, 401, 'its claims changed')
  const grant = new URL(parsePlaylist((await fetchPath(playlistPath)).body).variants[0]?.uri ?? '').pathname.split('/')[2] ?? ''
  const asGrant = await fetchPath(manifestUrl.replace(token, grant))
  t.equal(asGrant.status, 401, 'a node\'s grant is no steering token')
  t.equal(asGrant.headers['access-control-allow-origin'], '*', 'errors carry CORS too')
  const otherCamera = await fetchPath(manifestUrl.replace('/cam-1/', '/cam-2/'))
  t.equal(otherCamera.status, 403, 'another camera\'s path')
  t.equal(otherCamera.json().error.code, 'GW_FORBIDDEN')
  t.equal((await fetchPath(playlistPath.replace('/cam-1/', '/cam-2/'))).status, 403)

  // Half the lease later the manifest hands out a renewed URL; the player uses it.
  clock += (LEASE_S / 2 + 1) * 1000
  const renewed = (await fetchPath(manifestUrl)).json()['RELOAD-URI'] as string
  t.not(renewed.split('/')[1], token, 'a renewed token')
  const renewedUrl = new URL(renewed, `http://gateway${manifestUrl}`).pathname
  clock += (LEASE_S / 2) * 1000
  t.equal((await fetchPath(playlistPath)).status, 401, 'the multivariant playlist is past its start window (SIG_TTL_S)')
  t.equal((await fetchPath(renewedUrl)).status, 200, 'the renewed URL outlives the first')
  const gone = await fetchPath(manifestUrl)
  t.equal(gone.status, 410, 'the first, past its lease: its session is over')
  t.equal(gone.json().error.code, 'GW_SESSION_GONE')

  // Renewed every TTL, a manifest URL still ends with its session's longest duration.
  let current = renewedUrl
  while (clock < Date.parse('2030-01-01T00:00:00Z') + (MAX_S + 60) * 1000) {
    clock += TTL_S * 1000
    const answer = await fetchPath(current)
    if (answer.status !== 200) break
    current = new URL(answer.json()['RELOAD-URI'], `http://gateway${current}`).pathname
  }
  const ended = await fetchPath(current)
  t.equal(ended.status, 410, 'past HLS_SESSION_MAX_S, however renewed')
  await markDemoNodesAlive(system.store, new Date(clock))
  await system.gateway.refreshSnapshot()
})

t.test('steering=off: today\'s 302 straight to one node\'s playlist', async (t) => {
  const answer = await ask('hls', MOSCOW, { steering: 'off' })
  t.equal(answer.status, 302)
  const location = new URL(String(answer.headers.location))
  t.equal(location.host, 'moscow-1.nodes.geogate.test')
  t.match(location.pathname, /^\/hls\/[\w-]+\.[\w-]+\.[\w-]+\/UIN-DEMO-1\/cam-1\/index\.m3u8$/)
  t.type(claimsOf(location.pathname.split('/')[2] ?? '').sid, 'string', 'its grant names a session of its own')
})

t.test('JSON answers carry the pathways as alternates, across groups when the group has one node', async (t) => {
  const hls = (await ask('hls', MOSCOW, { redirect: 'false' })).json()
  t.equal(hls.node.id, 'node-moscow-1')
  t.equal(hls.alternates.length, 3)
  const sids = new Set([hls.url, ...hls.alternates].map((url: string) => claimsOf(new URL(url).pathname.split('/')[2] ?? '').sid))
  t.equal(sids.size, 1, 'an HLS answer\'s URLs share one session')

  const london = (await ask('ws-fmp4', LONDON, { redirect: 'false' })).json()
  t.equal(london.node.id, 'node-london-1')
  const hosts = london.alternates.map((url: string) => new URL(url).host)
  t.ok(hosts.length >= 2, `the London viewer gets alternates: ${hosts.join(', ')}`)
  t.notOk(hosts.includes('london-1.nodes.geogate.test'), 'never the chosen node again')
  for (const url of london.alternates as string[]) t.equal(new URL(url).protocol, 'wss:')
})

t.test('failed=NODE with the grant the client held for it: that client alone is answered elsewhere', async (t) => {
  const first = await ask('flv', MOSCOW)
  const held = new URL(String(first.headers.location))
  t.equal(held.host, 'moscow-1.nodes.geogate.test')
  const sig = held.searchParams.get('sig') ?? ''
  clock += 90_000
  await markDemoNodesAlive(system.store, new Date(clock))
  await system.gateway.refreshSnapshot()

  const failover = await ask('flv', MOSCOW, { failed: 'node-moscow-1', failed_sig: sig })
  t.equal(new URL(String(failover.headers.location)).host, 'moscow-2.nodes.geogate.test', 'the next node of its group, with a grant long past its exp')
  t.equal(new URL(String((await ask('flv', MOSCOW)).headers.location)).host, 'moscow-1.nodes.geogate.test', 'nobody else is moved: not even the same client asking again without it')
  t.equal(new URL(String((await ask('flv', MOSCOW, { failed: 'node-moscow-1' })).headers.location)).host, 'moscow-1.nodes.geogate.test', 'not without the grant')
  t.equal(new URL(String((await ask('flv', MOSCOW, { failed: 'node-moscow-1', failed_sig: new URL(String(failover.headers.location)).searchParams.get('sig') ?? '' })).headers.location)).host,
    'moscow-1.nodes.geogate.test', 'not with a grant for another node')
  const cam2 = new URL(String((await ask('flv', MOSCOW, { camera: 'cam-2' })).headers.location)).searchParams.get('sig') ?? ''
  t.equal(new URL(String((await ask('flv', MOSCOW, { failed: 'node-moscow-1', failed_sig: cam2 })).headers.location)).host, 'moscow-1.nodes.geogate.test', 'not with another camera\'s grant')
  const limited = new URL(String((await ask('flv', MOSCOW, { access_token: 'demo-limited-token' })).headers.location)).searchParams.get('sig') ?? ''
  t.equal(new URL(String((await ask('flv', MOSCOW, { failed: 'node-moscow-1', failed_sig: limited })).headers.location)).host, 'moscow-1.nodes.geogate.test', 'not with another owner\'s grant')
  const bad = await ask('flv', MOSCOW, { failed: 'node-moscow-1', failed_sig: 'not a grant' })
  t.equal(bad.status, 400, 'a malformed failed_sig is refused by the schema')

  const hls = await ask('hls', MOSCOW, { failed: 'node-moscow-1', failed_sig: sig, redirect: 'false' })
  t.equal(hls.json().node.id, 'node-moscow-2', 'HLS too')
  t.notOk(hls.json().alternates.some((url: string) => new URL(url).host === 'moscow-1.nodes.geogate.test'), 'the failed node is no pathway either')
})
