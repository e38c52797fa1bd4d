// A port that something else holds stops a process with one line naming the port and the
// setting that chose it, exit code 1, no stack trace; `geogate dev` closes what it had opened
// (its embedded store) before it goes.

import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { geogateArgs, TEST_SERVICE_KEYS } from '../helpers/processes.js'

async function run (command: string, env: Record<string, string>): Promise<{ status: number | null, stderr: string }> {
  return await new Promise((resolve) => {
    execFile(process.execPath, [...geogateArgs(), command], {
      env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'warn', SERVICE_KEYS: TEST_SERVICE_KEYS, ...env },
      encoding: 'utf8',
      timeout: 60_000
    }, (err, _stdout, stderr) => { resolve({ status: err === null ? 0 : (err as { code?: number }).code ?? null, stderr }) })
  })
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const held = net.createServer()
await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve))
t.teardown(() => held.close())
const taken = String((held.address() as net.AddressInfo).port)
const dir = await mkdtemp(path.join(tmpdir(), 'geogate-port-in-use-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))

// The processes start together; each test reads its own answer.
const [resolver, metrics, dev] = await Promise.all([
  run('resolver', { RESOLVER_PORT: taken, METRICS_PORT: '0' }),
  run('resolver', { RESOLVER_PORT: '0', METRICS_PORT: taken }),
  run('dev', { GATEWAY_PORT: taken, RESOLVER_PORT: '0', AUTH_SERVER_PORT: '0', MONGODB_URL: '', DATA_DIR: dir })
])

t.test('the resolver\'s own port', async (t) => {
  t.equal(resolver.status, 1, 'exit code 1')
  t.equal(resolver.stderr, `geogate: port ${taken} is in use (RESOLVER_PORT): choose another port or stop what holds it\n`, 'one line, naming the setting')
})

t.test('a metrics listener\'s port', async (t) => {
  t.equal(metrics.status, 1)
  t.match(metrics.stderr, new RegExp(`^geogate: port ${taken} is in use \\(METRICS_PORT\\)`))
  t.notMatch(metrics.stderr, /\n\s+at /, 'no stack trace')
})

t.test('dev\'s gateway port', async (t) => {
  t.equal(dev.status, 1)
  t.match(dev.stderr, new RegExp(`\\ngeogate: port ${taken} is in use \\(GATEWAY_PORT\\): choose another port or stop what holds it\\n$`), 'the last line names the setting')
  t.notMatch(dev.stderr, /\n\s+at /, 'no stack trace')
  const pid = Number(/embedded store on \S+ \(pid (\d+)\)/.exec(dev.stderr)?.[1])
  t.ok(pid > 0 && !alive(pid), `its embedded store (pid ${pid}) stopped with it`)
})
