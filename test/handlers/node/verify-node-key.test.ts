// Node calls are the node's: GET /verify answers only a caller that sends the key of the node it
// names (as the README's nginx does), recognised from the routing view without a store call. A
// stranger holding a viewer's HLS grant, without the key, gets 401 and starts nothing, renews
// nothing, takes no slot, from however many addresses. The heartbeat and the hooks take the key
// too (their own tests cover them); here, that a wrong key starts no play there either.

import t from 'tap'
import type { CommandStartedEvent } from 'mongodb'
import { demoNodeKey } from '../../../src/demo/demo-data.js'
import { generateNodeKey } from '../../../src/handlers/admin/admin-collections.js'
import { startSystem } from '../../helpers/system.js'
import { accountWithLimit, hookUrl, NODE, postJson, testSigner } from './hook-fixtures.js'

let clock = Date.parse('2030-01-01T00:00:00Z')
const now = (): number => clock
// The replica's own background reads (the ended-session watch, the revocation guard, the node
// liveness poll) are off or rare:
// the tests below count the store commands that strangers' requests cause.
const system = await startSystem(t, { now, config: { hlsIdleS: 10, sessionEndPollMs: 0, sessionGuardMs: 0, snapshotRefreshMs: 60_000 } })
const signer = testSigner(now)
const app = system.gateway.app
const { sessions, sessionSlots } = system.store.collections

async function verify (grant: string, address: string, authorization: string | undefined, node = NODE): Promise<{ status: number, code?: string }> {
  const answer = await app.inject({
    method: 'GET',
    url: '/verify',
    headers: { 'x-original-uri': `/hls/${grant}/UIN-DEMO-1/cam-1/index.m3u8`, 'x-geogate-node': node, 'x-real-ip': address, ...(authorization !== undefined && { authorization }) }
  })
  return answer.statusCode === 204 ? { status: 204 } : { status: answer.statusCode, code: answer.json().error.code }
}

const key = (node: string): string => `Bearer ${demoNodeKey(node)}`
let jtis = 0
const hlsGrant = (owner: string): string => signer.sign({ own: owner, fmt: 'hls', jti: `node-key-${++jtis}` })

t.test('without the node\'s own key /verify answers 401, before it looks at the grant', async (t) => {
  const owner = await accountWithLimit(system, null)
  const grant = hlsGrant(owner)
  const cases: Array<[string, string | undefined, string]> = [
    ['no Authorization', undefined, 'GW_TOKEN_MISSING'],
    ['another node\'s key', key('node-london-1'), 'GW_TOKEN_INVALID'],
    ['a made-up key', `Bearer ${generateNodeKey()}`, 'GW_TOKEN_INVALID'],
    ['not a bearer', `Basic ${Buffer.from(`x:${demoNodeKey(NODE)}`).toString('base64')}`, 'GW_TOKEN_INVALID'],
    ['the key itself, no scheme', demoNodeKey(NODE), 'GW_TOKEN_INVALID']
  ]
  for (const [name, authorization, code] of cases) t.same(await verify(grant, '198.51.100.1', authorization), { status: 401, code }, name)
  t.same(await verify(grant, '198.51.100.1', key(NODE), 'node-nowhere'), { status: 401, code: 'GW_TOKEN_INVALID' }, 'an unknown node answers as a wrong key')
  t.equal(await sessions.countDocuments({ owner }), 0, 'nothing started')
  t.same(await verify(grant, '198.51.100.1', key(NODE)), { status: 204 }, 'the node itself')
  t.same(await verify(grant, '198.51.100.1', key(NODE)), { status: 204 }, 'again, from the remembered key')
})

t.test('a stranger with a viewer\'s grant and no key: 401 from every address, no session, no slot, no store call', async (t) => {
  const owner = await accountWithLimit(system, 2)
  const grant = hlsGrant(owner)
  let commands = 0
  const count = (event: CommandStartedEvent): void => {
    const target = (event.command as Record<string, unknown>)[event.commandName]
    if (target === 'sessions' || target === 'session_slots' || target === 'nodes') commands++
  }
  system.store.client.on('commandStarted', count)
  try {
    for (let i = 0; i < 200; i++) {
      const answer = await verify(grant, `203.0.113.${i % 250}`, i % 2 === 0 ? undefined : `Bearer wrong-key-${i}-0123456789`)
      if (answer.status !== 401) t.fail(`request ${i}: ${answer.status}`)
    }
  } finally {
    system.store.client.off('commandStarted', count)
  }
  t.equal(commands, 0, 'the key is checked against the routing view: no store call')
  t.equal(await sessions.countDocuments({ owner }), 0, 'no session started')
  t.equal(await sessionSlots.countDocuments({ owner }), 0, 'no slot of the account taken')
  t.same(await verify(grant, '198.51.100.2', key(NODE)), { status: 204 }, 'the account\'s slots are all there for its viewer')
})

t.test('a stranger cannot renew a live session: it lapses when its viewer stops, whatever the stranger sends', async (t) => {
  const owner = await accountWithLimit(system, 1)
  const grant = hlsGrant(owner)
  t.same(await verify(grant, '198.51.100.3', key(NODE)), { status: 204 }, 'the viewer starts a session')
  const started = await sessions.findOne({ owner })
  // The viewer leaves; a stranger replays its requests for longer than HLS_IDLE_S.
  for (let s = 0; s < 12; s++) {
    clock += 1000
    t.equal((await verify(grant, '198.51.100.3', undefined)).status, 401)
  }
  t.same((await sessions.findOne({ owner }))?.expires_at, started?.expires_at, 'the lease was never renewed')
  const next = hlsGrant(owner)
  t.same(await verify(next, '198.51.100.4', key(NODE)), { status: 204 }, 'the lapsed session\'s slot takes the account\'s next viewer')
})

t.test('hooks: a wrong key starts no play', async (t) => {
  const owner = await accountWithLimit(system, null)
  const sig = signer.sign({ own: owner })
  const play = { action: 'on_play', client_id: 'stranger-1', ip: '198.51.100.9', app: 'live', stream: 'UIN-DEMO-1_cam-1', param: `?server=UIN-DEMO-1&camera=cam-1&sig=${sig}` }
  t.equal((await postJson(hookUrl(system, '/hooks/srs', NODE, generateNodeKey()), play)).status, 401)
  t.equal((await postJson(hookUrl(system, '/hooks/srs', NODE, null), play)).status, 401)
  t.equal(await sessions.countDocuments({ owner }), 0)
  t.equal((await postJson(hookUrl(system, '/hooks/srs'), play)).json().code, 0, 'the node\'s own key plays')
})
