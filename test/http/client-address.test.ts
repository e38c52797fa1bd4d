// The client's address, resolved once per request, is what the gateway's lines tell: a failed
// stream request behind a trusted proxy is logged and decision-logged with the client's address,
// not the proxy's, and with its path but never its query (a token, a signature).

import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Writable } from 'node:stream'
import t from 'tap'
import { get, startSystem } from '../helpers/system.js'

const dir = await mkdtemp(path.join(tmpdir(), 'geogate-client-address-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
const decisions = path.join(dir, 'decisions.jsonl')
const lines: string[] = []
const stream = { write: (line: string) => { lines.push(line) } } as unknown as Writable
const system = await startSystem(t, {
  config: { decisionLog: decisions, decisionLogSample: 1, authTimeoutMs: 2000 },
  logger: { level: 'warn', stream }
})

t.test('a refusal behind a trusted proxy names the client, in the log and in the decision log', async (t) => {
  // The auth-server gone: a token the gateway has never seen is a 503, which is logged.
  await system.authServer.stop()
  const answer = await get(`${system.gatewayUrl}/flv?server=UIN-DEMO-1&camera=cam-1&access_token=never-seen-token`, {
    headers: { 'x-forwarded-for': '203.0.113.9, 77.88.8.8' }
  })
  t.equal(answer.status, 503)
  const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.code === 'GW_DEPENDENCY_DOWN')
  t.equal(logged.length, 1, 'one line for the failed request')
  t.match(logged[0], { client: '77.88.8.8', method: 'GET', path: '/flv' }, 'the client behind the proxy, not the proxy')
  t.notMatch(JSON.stringify(logged), /never-seen-token/, 'the token is not logged')

  let written = ''
  const deadline = Date.now() + 5000
  while (!written.includes('GW_DEPENDENCY_DOWN') && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    written = await readFile(decisions, 'utf8').catch(() => '')
  }
  const refusal = written.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.code === 'GW_DEPENDENCY_DOWN')
  t.match(refusal, { client: '77.88.8.8', status: 503 }, 'the decision log names the same client')
})
