// `geogate admin` against a running gateway: list nodes with their status, set a field, drain,
// explain a route; the API's errors printed as they are, with a non-zero exit.

import { spawn } from 'node:child_process'
import t from 'tap'
import { hashToken } from '../../src/auth/token-hash.js'
import { parseAssignments, runAdminCommand } from '../../src/commands/admin.js'
import { startSystem } from '../helpers/system.js'
import { geogateArgs } from '../helpers/processes.js'

const system = await startSystem(t)
const VIEWER = 'cli-viewer-token'
await system.store.collections.tokens.insertOne({
  _id: hashToken(VIEWER), owner_type: 'admin', owner_id: 'ops-viewer', grants: [{ object_type: 'gateway', object_id: '*', rights: ['read'] }], expires_at: null
})

async function admin (args: string[], token = 'demo-admin-token'): Promise<{ code: number, out: string, err: string }> {
  const out: string[] = []
  const err: string[] = []
  const code = await runAdminCommand(args, { env: { GEOGATE_URL: system.gatewayUrl, GEOGATE_TOKEN: token }, out: (l) => out.push(l), err: (l) => err.push(l) })
  return { code, out: out.join('\n'), err: err.join('\n') }
}

t.test('nodes: every node with its status, heartbeat, load and weight', async (t) => {
  const { code, out } = await admin(['nodes'])
  t.equal(code, 0)
  const lines = out.split('\n')
  t.match(lines[0], /^NODE\s+GROUP\s+STATUS\s+HEARTBEAT\s+SESSIONS\s+MBPS\s+CPU\s+WEIGHT\s+ENABLED\s+DRAINING$/)
  t.match(out, /node-moscow-1\s+ru-central\s+up\s+\d+s ago\s+0\/1000\s+0\s+0%\s+10\s+yes\s+no/)
  t.equal(lines.length, 5, 'a header and the four demo nodes')
})

t.test('nodes set changes a field through the API', async (t) => {
  const { code, out } = await admin(['nodes', 'set', 'node-moscow-1', 'weight=3', 'capacity.sessions=500'])
  t.equal(code, 0)
  t.equal(out, 'node-moscow-1: weight=3 capacity={"sessions":500}')
  const stored = await system.store.collections.nodes.findOne({ _id: 'node-moscow-1' })
  t.equal(stored?.weight, 3)
  t.same(stored?.capacity, { sessions: 500 })
  t.match(await system.store.collections.audit.findOne({ id: 'node-moscow-1' }, { sort: { _id: -1 } }), { actor: 'admin:demo-admin', after: { weight: 3 } })
  await admin(['nodes', 'set', 'node-moscow-1', 'weight=10', 'capacity.sessions=1000'])
})

t.test('drain and undrain, and the explainer follows', async (t) => {
  const before = await admin(['route', '77.88.8.8', 'UIN-DEMO-1', 'cam-1', '--format', 'flv'])
  t.equal(before.code, 0)
  t.match(before.out, /^client\s+.*RU/m)
  t.match(before.out, /^groups\s+ru-central -> eu-west/m)
  const winner = /^chosen\s+(node-\S+)/m.exec(before.out)?.[1] ?? ''
  t.match(winner, /^node-moscow-[12]$/)
  t.match(before.out, new RegExp(`^${winner}\\s+ru-central\\s+streaming\\s+yes\\s+chosen\\s+\\d`, 'm'), 'the candidate table')
  t.match(before.out, new RegExp(`^pathways\\s+${winner} -> node-moscow-[12] -> `, 'm'), 'the pathways, the chosen node first')

  t.equal((await admin(['nodes', 'drain', winner])).out, `${winner}: draining=true`)
  await system.gateway.refreshSnapshot()
  const after = await admin(['route', '77.88.8.8', 'UIN-DEMO-1', 'cam-1'])
  t.notMatch(after.out, new RegExp(`^chosen\\s+${winner}`, 'm'), 'the drained node is not chosen')
  t.match(after.out, new RegExp(`^${winner}\\s+ru-central\\s+streaming\\s+no\\s+draining`, 'm'))
  t.match((await admin(['nodes'])).out, new RegExp(`${winner}\\s+ru-central\\s+draining`))
  t.equal((await admin(['nodes', 'undrain', winner])).code, 0)
  await system.gateway.refreshSnapshot()
})

t.test('errors print the API\'s message and exit non-zero', async (t) => {
  const bad = await admin(['nodes', 'set', 'node-moscow-1', 'weight=-1'])
  t.equal(bad.code, 1)
  t.equal(bad.err, 'geogate: GW_BAD_REQUEST: weight must be > 0')
  t.equal((await system.store.collections.nodes.findOne({ _id: 'node-moscow-1' }))?.weight, 10, 'nothing changed')
  const missing = await admin(['nodes', 'drain', 'node-nowhere'])
  t.equal(missing.code, 1)
  t.equal(missing.err, 'geogate: GW_NOT_FOUND: no nodes node-nowhere')
  const readOnly = await admin(['nodes', 'set', 'node-moscow-1', 'weight=2'], VIEWER)
  t.equal(readOnly.code, 1)
  t.match(readOnly.err, /^geogate: GW_FORBIDDEN: /)
  const wrongToken = await admin(['nodes'], 'no-such-token')
  t.equal(wrongToken.code, 1)
  t.match(wrongToken.err, /^geogate: GW_TOKEN_INVALID: /)
  const badIp = await admin(['route', 'not-an-ip', 'UIN-DEMO-1'])
  t.equal(badIp.code, 1)
  t.match(badIp.err, /^geogate: GW_BAD_REQUEST: /)
  for (const args of [['nodes', 'set', 'node-moscow-1'], ['nodes', 'set', 'node-moscow-1', 'weight'], ['nodes', 'fly', 'x'], ['route', '77.88.8.8'], ['launch'], ['route', '1.2.3.4', 'S', '--colour', 'red']]) {
    const usage = await admin(args)
    t.equal(usage.code, 2, `usage error for ${args.join(' ')}`)
  }
  const noToken = await runAdminCommand(['nodes'], { env: { GEOGATE_URL: system.gatewayUrl }, out: () => {}, err: () => {} })
  t.equal(noToken, 2)
  const down = await runAdminCommand(['nodes'], { env: { GEOGATE_URL: 'http://127.0.0.1:1', GEOGATE_TOKEN: 'x' }, out: () => {}, err: () => {} })
  t.equal(down, 1, 'an unreachable gateway is an error too')
})

t.test('values are JSON when they parse, strings otherwise; dots nest', async (t) => {
  t.same(parseAssignments(['weight=3', 'enabled=false', 'host=a.example', 'formats=["flv"]', 'capacity.sessions=5', 'partners=[]']),
    { weight: 3, enabled: false, host: 'a.example', formats: ['flv'], capacity: { sessions: 5 }, partners: [] })
  t.throws(() => parseAssignments(['__proto__.x=1'.replace('__proto__', 'a b')]))
})

t.test('the geogate binary: exit code and the API\'s message on stderr', async (t) => {
  const run = (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> => new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...geogateArgs(), 'admin', ...args], {
      env: { ...process.env, GEOGATE_URL: system.gatewayUrl, GEOGATE_TOKEN: 'demo-admin-token' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
    child.once('error', reject)
    child.once('exit', (code) => resolve({ code, stdout, stderr }))
  })
  const bad = await run(['nodes', 'set', 'node-moscow-1', 'weight=heavy'])
  t.equal(bad.code, 1)
  t.equal(bad.stderr, 'geogate: GW_BAD_REQUEST: weight must be number\n')
  t.equal(bad.stdout, '')
})
