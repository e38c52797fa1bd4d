// `geogate dev` keeps what an admin edits: saved under DATA_DIR, restored on the next start
// (the demo data seeds only an empty directory), and restored into a new embedded store when
// the old one is killed, with the gateway answering again without a restart.

import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { startGeogate } from '../helpers/processes.js'
import { get } from '../helpers/system.js'

const dir = await mkdtemp(path.join(tmpdir(), 'geogate-dev-data-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
const env: Record<string, string> = { GATEWAY_PORT: '0', RESOLVER_PORT: '0', AUTH_SERVER_PORT: '0', MONGODB_URL: '', DATA_DIR: dir }
const banner = /curl -si[^\n]*'(http:\/\/[^/]+)\/flv/
const admin = { authorization: 'Bearer demo-admin-token', 'content-type': 'application/json' }
const moscow = { 'x-forwarded-for': '77.88.8.8' }
const watch = (base: string): string => `${base}/flv?server=UIN-DEMO-1&camera=cam-1&access_token=demo-viewer-token`
const kept = (base: string): string => `${base}/api/v1/partners/partner-kept`

async function until (what: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await what().catch(() => false)) return true
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return false
}

t.test('edits survive the store\'s death and dev\'s restart', async (t) => {
  const dev = await startGeogate(t, 'dev', env, { readyPattern: banner, timeoutMs: 60_000 })
  t.match(dev.output(), /demo data seeded/, 'an empty directory is seeded with the demo data')
  // (The first admin request may meet an auth-server still warming up on a busy machine.)
  t.ok(await until(async () => (await get(kept(dev.url), { headers: admin })).status === 404, 10_000), 'no such partner in the demo data')

  // An admin adds a partner.
  const post = await request(`${dev.url}/api/v1/partners`, {
    method: 'POST', headers: admin, body: JSON.stringify({ _id: 'partner-kept', name: 'Kept', pattern_fallbacks: {} })
  })
  await post.body.dump()
  t.equal(post.statusCode, 201, 'the edit is accepted')
  t.ok(await until(async () => (await readFile(path.join(dir, 'store.json'), 'utf8')).includes('partner-kept'), 10_000), 'and saved under DATA_DIR')
  t.ok(await until(async () => (await get(watch(dev.url), { headers: moscow })).status === 302, 10_000), 'the gateway redirects')

  // The store process dies.
  const pid = Number(/embedded store on \S+ \(pid (\d+)\)/.exec(dev.output())?.[1])
  t.ok(pid > 0, `the store's pid is logged (${pid})`)
  const killedAt = performance.now()
  process.kill(pid, 'SIGKILL')
  t.ok(await until(async () => /embedded store restarted/.test(dev.output()), 30_000), 'dev restarts the store')
  t.ok(await until(async () => {
    const answer = await get(watch(dev.url), { headers: moscow })
    return answer.status === 302 && (await get(`${dev.url}/readyz`)).json().status === 'ready'
  }, 30_000), 'the gateway answers again without a restart')
  t.comment(`answering with the edited data ${Math.round(performance.now() - killedAt)} ms after the store was killed`)
  t.equal((await get(kept(dev.url), { headers: admin })).status, 200, 'the new store holds the edit')
  t.equal(await dev.stop('SIGTERM'), 0, 'dev exits 0')

  // And a new dev on the same directory starts from it.
  const again = await startGeogate(t, 'dev', env, { readyPattern: banner, timeoutMs: 60_000 })
  t.match(again.output(), /restored \d+ documents/, 'restored, not seeded')
  t.notMatch(again.output(), /demo data seeded/)
  t.equal((await get(kept(again.url), { headers: admin })).status, 200, 'the edit survived the restart')
  t.ok(await until(async () => (await get(watch(again.url), { headers: moscow })).status === 302, 10_000), 'and the gateway redirects')
  t.equal(await again.stop('SIGTERM'), 0)
})
