// /metrics after real requests: every family of docs/design.md section 9 is there with the values the
// requests made, and labels a stranger chooses (paths, error-prone parameters) do not make new
// series.

import t from 'tap'
import { get, startSystem } from '../helpers/system.js'

const MOSCOW = '77.88.8.8'
const LONDON = '81.2.69.160'
// Generous timeouts: a slow first call on a busy machine must not open the breaker early.
const system = await startSystem(t, { config: { breakerThreshold: 1, breakerCooldownMs: 60_000, resolverTimeoutMs: 3000, authTimeoutMs: 5000 } })
const base = system.gatewayUrl
const stream = (path: string, query: Record<string, string>): string => `${base}${path}?${new URLSearchParams(query).toString()}`

async function scrape (): Promise<string> {
  const answer = await get(`${base}/metrics`)
  t.equal(answer.status, 200, '/metrics answers')
  return answer.body
}

/** The value of the one series of name whose labels are exactly these (order free). */
function value (text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',')
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null || match[1] !== name) continue
    const have = (match[2] ?? '').split(/,(?=[a-z_]+=")/).filter((s) => s !== '').sort().join(',')
    if (have === want) return Number(match[3])
  }
  return undefined
}

function series (text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
}

t.test('request counts, redirects and durations follow the requests', async (t) => {
  const viewer = { server: 'UIN-DEMO-1', camera: 'cam-1', access_token: 'demo-viewer-token' }
  const first = await get(stream('/flv', viewer), { headers: { 'x-forwarded-for': MOSCOW } })
  t.equal(first.status, 302, first.body)
  t.equal((await get(stream('/flv', viewer), { headers: { 'x-forwarded-for': MOSCOW } })).status, 302)
  t.equal((await get(stream('/hls', { ...viewer, redirect: 'false' }), { headers: { 'x-forwarded-for': LONDON } })).status, 200)
  t.equal((await get(stream('/flv', { ...viewer, camera: 'cam-3' }), { headers: { 'x-forwarded-for': MOSCOW } })).status, 503)
  t.equal((await get(stream('/flv', { server: 'UIN-DEMO-1', camera: 'cam-1' }))).status, 401)
  t.equal((await get(stream('/flv', { ...viewer, camera: 'bad camera!' }))).status, 400)
  t.equal((await get(`${base}/api/v1/nodes`, { headers: { authorization: 'Bearer demo-admin-token' } })).status, 200)
  t.equal((await get(`${base}/api/v1/nodes`)).status, 401)
  // A stranger's paths: all of them one series.
  for (let i = 0; i < 50; i++) t.equal((await get(`${base}/probe-${i}`)).status, 404)

  const text = await scrape()
  const requests = (route: string, status: string, code: string): number | undefined => value(text, 'geogate_requests_total', { route, status, code })
  t.equal(requests('/flv', '302', 'none'), 2, 'redirects counted by route and status')
  t.equal(requests('/hls', '200', 'none'), 1, 'JSON answers counted')
  t.equal(requests('/flv', '503', 'GW_CAMERA_OFFLINE'), 1, 'errors counted with their code')
  t.equal(requests('/flv', '401', 'GW_TOKEN_MISSING'), 1)
  t.equal(requests('/flv', '400', 'GW_BAD_REQUEST'), 1, 'a request the schema refuses is counted')
  t.equal(requests('/api/v1/nodes', '200', 'none'), 1, 'other routes counted by their pattern')
  t.ok((requests('/api/v1/nodes', '401', 'GW_TOKEN_MISSING') ?? 0) + (requests('/api/v1/nodes', '401', 'GW_TOKEN_INVALID') ?? 0) === 1, 'an admin refusal counted with its code')
  t.equal(requests('unmatched', '404', 'GW_NOT_FOUND'), 50, 'unknown paths fold into one route label')
  t.notOk(text.includes('probe-'), 'no path a stranger sent is a label')

  const redirects = series(text, 'geogate_redirects_total')
  const moscow = redirects.filter((line) => /node="node-moscow-[12]"/.test(line) && line.includes('group="ru-central"') && line.includes('partner="demo"'))
  t.equal(moscow.reduce((sum, line) => sum + Number(line.split(' ').pop()), 0), 2, 'redirects by node, group and partner')
  t.equal(value(text, 'geogate_redirects_total', { node: 'node-london-1', group: 'eu-west', partner: 'demo' }), 1)

  const flvCount = value(text, 'geogate_request_duration_seconds_count', { route: '/flv' })
  t.equal(flvCount, 5, 'every /flv answer observed in the histogram')
  t.equal(value(text, 'geogate_request_duration_seconds_bucket', { route: '/flv', le: '+Inf' }), 5)
  t.ok((value(text, 'geogate_request_duration_seconds_bucket', { route: '/flv', le: '5' }) ?? 0) <= 5)
  t.ok((value(text, 'geogate_request_duration_seconds_sum', { route: '/flv' }) ?? -1) >= 0)

  t.ok((value(text, 'geogate_upstream_requests_total', { upstream: 'resolver' }) ?? 0) >= 1, 'resolver calls counted')
  t.ok((value(text, 'geogate_upstream_requests_total', { upstream: 'auth-server' }) ?? 0) >= 1, 'auth-server calls counted')
  t.equal(value(text, 'geogate_upstream_errors_total', { upstream: 'resolver' }), 0)
  t.equal(value(text, 'geogate_upstream_breaker_state', { upstream: 'resolver' }), 0, 'the breaker is closed')
  t.equal(value(text, 'geogate_store_up', {}), 1)
  t.ok((value(text, 'geogate_snapshot_age_seconds', {}) ?? -1) >= 0, 'snapshot age')
  t.ok((value(text, 'geogate_geo_lookups_total', { source: 'resolver' }) ?? 0) >= 1)
})

t.test('a resolver that stops answering shows as errors and an open breaker', async (t) => {
  await system.resolver.stop()
  const answer = await get(stream('/flv', { server: 'UIN-DEMO-1', camera: 'cam-1', access_token: 'demo-viewer-token' }), { headers: { 'x-forwarded-for': '5.255.255.5' } })
  t.equal(answer.status, 302, 'the local database answers instead')
  const text = await scrape()
  t.ok((value(text, 'geogate_upstream_errors_total', { upstream: 'resolver' }) ?? 0) >= 1, 'the failed call counted')
  t.equal(value(text, 'geogate_upstream_breaker_state', { upstream: 'resolver' }), 2, 'the breaker is open')
  t.ok((value(text, 'geogate_geo_lookups_total', { source: 'fallback' }) ?? 0) >= 1)
})
