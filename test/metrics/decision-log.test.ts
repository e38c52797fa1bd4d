// The decision log: a JSON line per stream answer with the fields of docs/design.md section 9, written
// by a real gateway for real requests that carry tokens (query and header), get signed URLs,
// and are followed by a node's heartbeat and /verify calls with its key and the signature —
// none of which may ever appear in the log. And sampling.

import { mkdtempSync, readFileSync, existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { demoNodeKey } from '../../src/demo/demo-data.js'
import { openDecisionLog } from '../../src/metrics/decision-log.js'
import { get, startSystem } from '../helpers/system.js'

const dir = mkdtempSync(path.join(os.tmpdir(), 'geogate-decisions-'))
const file = path.join(dir, 'decisions.log')
const system = await startSystem(t, { config: { decisionLog: file, decisionLogSample: 1, resolverTimeoutMs: 3000, authTimeoutMs: 5000 } })
const base = system.gatewayUrl
const stream = (p: string, query: Record<string, string>): string => `${base}${p}?${new URLSearchParams(query).toString()}`

function lines (): Array<Record<string, unknown>> {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
}

async function linesAtLeast (n: number): Promise<Array<Record<string, unknown>>> {
  for (let i = 0; i < 200; i++) {
    const found = lines()
    if (found.length >= n) return found
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return lines()
}

t.test('a line per answer, with no token, key or signature in any', async (t) => {
  const secrets: string[] = ['demo-viewer-token', 'demo-admin-token', 'demo-limited-token', 'an-unknown-secret-token-7f3a9c']
  const moscow = { 'x-forwarded-for': '77.88.8.8' }
  const redirect = await get(stream('/flv', { server: 'UIN-DEMO-1', camera: 'cam-1', access_token: 'demo-viewer-token' }), { headers: moscow })
  t.equal(redirect.status, 302)
  const location = new URL(String(redirect.headers.location))
  const sig = location.searchParams.get('sig') as string
  secrets.push(sig, ...sig.split('.'))
  const json = await get(stream('/ws-fmp4', { server: 'UIN-DEMO-1', camera: 'cam-2', redirect: 'false' }), { headers: { ...moscow, authorization: 'Bearer demo-viewer-token' } })
  t.equal(json.status, 200)
  for (const url of [json.json().url, ...json.json().alternates] as string[]) {
    const signature = new URL(url).searchParams.get('sig') as string
    secrets.push(signature, ...signature.split('.'))
  }
  const fromIp = await get(stream('/stream', { format: 'hls', server: 'UIN-DEMO-1', camera: 'cam-1', access_token: 'demo-admin-token', fromip: '81.2.69.160' }))
  t.equal(fromIp.status, 302)
  t.equal((await get(stream('/flv', { server: 'UIN-DEMO-1', camera: 'cam-1', access_token: 'an-unknown-secret-token-7f3a9c' }), { headers: moscow })).status, 401)
  t.equal((await get(stream('/hls', { server: 'UIN-DEMO-1', camera: 'cam-3', access_token: 'demo-viewer-token' }), { headers: moscow })).status, 503)
  t.equal((await get(stream('/flv', { server: 'UIN-DEMO-1', camera: 'cam 1', access_token: 'demo-limited-token' }))).status, 400)
  // A node then calls with its key and the signature: not stream answers, and never logged.
  const node = 'node-moscow-1'
  secrets.push(demoNodeKey(node))
  const verifyNode = (redirect.headers.location as string).includes('moscow-2') ? 'node-moscow-2' : node
  secrets.push(demoNodeKey(verifyNode))
  const verify = await get(`${base}/verify`, { headers: { 'x-original-uri': `${location.pathname}${location.search}`, 'x-geogate-node': verifyNode, authorization: `Bearer ${demoNodeKey(verifyNode)}` } })
  t.equal(verify.status, 204)
  const heartbeat = await fetch(`${base}/api/v1/nodes/${node}/heartbeat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${demoNodeKey(node)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sessions: 1, mbps: 1, cpu: 1, status: 'up' })
  })
  t.equal(heartbeat.status, 200)

  const found = await linesAtLeast(6)
  t.equal(found.length, 6, 'one line per stream answer, none for node calls')
  const [first, second, third, unknown, offline, malformed] = found
  t.match(first, {
    client: '77.88.8.8',
    country: 'RU',
    group: 'ru-central',
    rule: 'country',
    node: /^node-moscow-[12]$/,
    owner: 'acct-demo',
    server: 'UIN-DEMO-1',
    camera: 'cam-1',
    format: 'flv',
    status: 302,
    code: null
  })
  t.type(first?.ms, 'number')
  t.ok(Number.isFinite(Date.parse(String(first?.time))), 'an ISO time')
  t.match(second, { camera: 'cam-2', format: 'ws-fmp4', status: 200, owner: 'acct-demo' })
  t.match(third, { client: '127.0.0.1', country: 'GB', group: 'eu-west', node: 'node-london-1', format: 'hls', status: 302 })
  t.match(unknown, { status: 401, code: 'GW_TOKEN_INVALID', node: null, owner: null, camera: 'cam-1', client: '77.88.8.8' })
  t.match(offline, { status: 503, code: 'GW_CAMERA_OFFLINE', camera: 'cam-3', format: 'hls' })
  t.match(malformed, { status: 400, code: 'GW_BAD_REQUEST', camera: null, server: 'UIN-DEMO-1' })

  const text = readFileSync(file, 'utf8')
  for (const secret of secrets.filter((s) => s.length >= 8)) t.notOk(text.includes(secret), `the log never holds ${secret.slice(0, 12)}…`)
  t.notOk(/sig=|access_token|authorization|bearer/i.test(text), 'no URL, query or header of a request')
})

t.test('DECISION_LOG_SAMPLE picks that share of answers', async (t) => {
  const sampled = path.join(dir, 'sampled.log')
  let draw = 0
  // 0, 0.25, 0.5, 0.75, 0, …: half of them fall under 0.5.
  const log = await openDecisionLog({ target: sampled, sample: 0.5, random: () => (draw++ % 4) / 4 })
  let taken = 0
  for (let i = 0; i < 100; i++) {
    if (!log.sampled()) continue
    taken++
    log.write({ client: '192.0.2.1', country: null, group: 'g"1\n', rule: 'default', node: 'n', owner: 'o', server: 's', camera: 'c', format: 'flv', status: 302, code: null, ms: 0.25 })
  }
  await log.close()
  t.equal(taken, 50)
  const written = readFileSync(sampled, 'utf8').split('\n').filter((l) => l !== '')
  t.equal(written.length, 50)
  t.equal((JSON.parse(written[0] as string) as { group: string }).group, 'g"1\n', 'values are escaped as JSON')
  const off = await openDecisionLog({ target: path.join(dir, 'never.log'), sample: 0 })
  t.notOk(off.sampled(), 'a sample of 0 logs nothing')
  t.notOk(existsSync(path.join(dir, 'never.log')), 'and opens nothing')
})
