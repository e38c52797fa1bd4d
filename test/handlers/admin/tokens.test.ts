// Tokens are created and revoked through the admin API and through `geogate token`.

import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { request } from 'undici'
import { hashToken } from '../../../src/auth/token-hash.js'
import { parseGrant } from '../../../src/commands/token.js'
import { get, startSystem } from '../../helpers/system.js'
import { geogateArgs } from '../../helpers/processes.js'

const run = promisify(execFile)
const system = await startSystem(t, { config: { authGrantTtlMs: 1, authDenyTtlMs: 1 } })
const base = system.gatewayUrl
const env = { ...process.env, MONGODB_URL: system.store.url, MONGODB_DB: system.store.database, LOG_LEVEL: 'warn' }

async function geogate (...args: string[]): Promise<{ stdout: string, stderr: string, code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...geogateArgs(), ...args], { env })
    return { stdout, stderr, code: 0 }
  } catch (err) {
    const e = err as { stdout: string, stderr: string, code: number }
    return { stdout: e.stdout, stderr: e.stderr, code: e.code }
  }
}

async function watch (token: string): Promise<number> {
  const answer = await get(`${base}/flv?server=UIN-DEMO-1&camera=cam-1&access_token=${encodeURIComponent(token)}`)
  if (answer.status === 503) console.error(answer.body)
  return answer.status
}

t.test('grants parse from the command line', async (t) => {
  t.same(parseGrant('camera:UIN-1/*:view'), { object_type: 'camera', object_id: 'UIN-1/*', rights: ['view'] })
  t.same(parseGrant('camera:UIN:1/cam:view,read'), { object_type: 'camera', object_id: 'UIN:1/cam', rights: ['view', 'read'] })
  t.throws(() => parseGrant('camera'))
  t.throws(() => parseGrant('camera:x:'))
})

t.test('geogate token create and revoke', async (t) => {
  const created = await geogate('token', 'create', '--owner-type', 'account', '--owner-id', 'acct-demo', '--grant', 'camera:UIN-DEMO-1/*:view', '--expires-in', '3600')
  t.equal(created.code, 0, created.stderr)
  const token = created.stdout.split('\n')[0] ?? ''
  t.match(token, /^[A-Za-z0-9_-]{43}$/)
  const doc = await system.store.collections.tokens.findOne({ _id: hashToken(token) })
  t.equal(doc?.owner_id, 'acct-demo')
  t.ok(doc?.expires_at instanceof Date, 'expires')
  t.equal(await watch(token), 302, 'the new token plays')

  const revoked = await geogate('token', 'revoke', token)
  t.equal(revoked.code, 0, revoked.stderr)
  t.equal(await system.store.collections.tokens.countDocuments({ _id: hashToken(token) }), 0)
  await new Promise((resolve) => setTimeout(resolve, 5)) // past the 1 ms grant cache of this gateway
  t.equal(await watch(token), 401, 'the revoked token is refused')

  const again = await geogate('token', 'revoke', token)
  t.equal(again.code, 2)
  t.match(again.stderr, /no such token/)
  const bad = await geogate('token', 'create', '--owner-id', 'x')
  t.equal(bad.code, 2)
  t.match(bad.stderr, /needs --owner-type/)
})

t.test('the admin API creates a token once and revokes it', async (t) => {
  const headers = { authorization: 'Bearer demo-admin-token', 'content-type': 'application/json' }
  const res = await request(`${base}/api/v1/tokens`, {
    method: 'POST', headers, body: JSON.stringify({ owner_type: 'account', owner_id: 'acct-demo', grants: [{ object_type: 'camera', object_id: 'UIN-DEMO-1/cam-1', rights: ['view'] }] })
  })
  t.equal(res.statusCode, 201)
  const body = await res.body.json() as { token: string, id: string }
  t.equal(body.id, hashToken(body.token))
  t.equal(await watch(body.token), 302)
  const list = await (await request(`${base}/api/v1/tokens`, { headers })).body.json() as { items: Array<Record<string, unknown>> }
  t.notOk(JSON.stringify(list).includes(body.token), 'a listing never shows a token')
  const bad = await request(`${base}/api/v1/tokens`, { method: 'POST', headers, body: JSON.stringify({ owner_type: 'account', owner_id: 'acct-demo', grants: [] }) })
  t.equal(bad.statusCode, 400)
  const viewer = await request(`${base}/api/v1/tokens/revoke`, { method: 'POST', headers: { ...headers, authorization: `Bearer ${body.token}` }, body: JSON.stringify({ token: body.token }) })
  t.equal(viewer.statusCode, 403)
  const revoke = await request(`${base}/api/v1/tokens/revoke`, { method: 'POST', headers, body: JSON.stringify({ token: body.token }) })
  t.equal(revoke.statusCode, 204)
  await new Promise((resolve) => setTimeout(resolve, 5))
  t.equal(await watch(body.token), 401)
  const audit = await system.store.collections.audit.find({ collection: 'tokens', id: body.id }).toArray()
  t.same(audit.map((a) => a.action).sort(), ['create', 'delete'])
  t.notOk(JSON.stringify(audit).includes(body.token), 'the audit log never holds a token')
})
