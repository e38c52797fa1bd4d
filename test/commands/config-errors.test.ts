// A bad setting stops a process before it starts anything, with one clean line per problem and
// exit code 2: SIGNING_KEYS like every other setting.

import { execFile } from 'node:child_process'
import t from 'tap'
import { geogateArgs } from '../helpers/processes.js'

async function run (command: string, env: Record<string, string>): Promise<{ status: number | null, stderr: string }> {
  return await new Promise((resolve) => {
    execFile(process.execPath, [...geogateArgs(), command], {
      env: { ...process.env, MONGODB_URL: 'mongodb://127.0.0.1:9', ...env },
      encoding: 'utf8',
      timeout: 30_000
    }, (err, _stdout, stderr) => { resolve({ status: err === null ? 0 : (err as { code?: number }).code ?? null, stderr }) })
  })
}

const cases = [
  ['a secret too short', 'k1=HS256:short', /SIGNING_KEYS: .*HS256 secret is \d+ bytes/],
  ['an unknown algorithm', 'k1=RS999:abcdef', /SIGNING_KEYS: .*not supported/],
  ['a key file that is not there', 'k1=ES256:/nonexistent/key.pem', /SIGNING_KEYS: .*cannot read the ES256 key file/]
] as const
// The processes start together; each test reads its own answer.
const answers = await Promise.all([
  ...cases.map(([, keys]) => run('gateway', { SIGNING_KEYS: keys })),
  run('gateway', { NODE_TTL_S: 'soon' }),
  run('gateway', { SIGNING_KEYS: '' })
])

for (const [i, [what, , said]] of cases.entries()) {
  t.test(`SIGNING_KEYS with ${what}`, async (t) => {
    const { status, stderr } = answers[i] ?? { status: null, stderr: '' }
    t.equal(status, 2)
    t.match(stderr, /invalid configuration/)
    t.match(stderr, said)
    t.notMatch(stderr, /\n\s+at /, 'no stack trace')
  })
}

t.test('another bad setting reads the same way', async (t) => {
  const { status, stderr } = answers[cases.length] ?? { status: null, stderr: '' }
  t.equal(status, 2)
  t.match(stderr, /invalid configuration:\n {2}- NODE_TTL_S: must be a whole number/)
})

t.test('a gateway with no SIGNING_KEYS at all is told so, cleanly', async (t) => {
  const { status, stderr } = answers[cases.length + 1] ?? { status: null, stderr: '' }
  t.equal(status, 2)
  t.match(stderr, /SIGNING_KEYS: required/)
  t.notMatch(stderr, /\n\s+at /)
})
