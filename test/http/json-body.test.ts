// Request bodies nest at most MAX_JSON_DEPTH deep: the depth is counted over the text (strings
// and their escapes skipped), and a merge patch 10,000 levels deep, which once overflowed the
// stack behind the parser (a 500 and a RangeError in the log), is a 400 with nothing logged.

import { Writable } from 'node:stream'
import t from 'tap'
import { request } from 'undici'
import type { Config } from '../../src/config.js'
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../src/http/json-body.js'
import { startSystem } from '../helpers/system.js'

const nested = (levels: number, open = '[', close = ']'): string => `${open.repeat(levels)}${close.repeat(levels)}`

t.test('the depth is counted over the text', async (t) => {
  t.equal(nestsDeeperThan(nested(3), 3), false, 'at the limit')
  t.equal(nestsDeeperThan(nested(4), 3), true, 'one past it')
  t.equal(nestsDeeperThan('{"a":{"b":[1,{"c":2}]}}', 3), true, 'objects and arrays alike')
  t.equal(nestsDeeperThan('[[],[],[],[],[]]', 2), false, 'siblings are not depth')
  t.equal(nestsDeeperThan(`{"s":"${'['.repeat(50)}"}`, 2), false, 'brackets in a string do not count')
  t.equal(nestsDeeperThan(`{"s":"\\"${'{'.repeat(50)}"}`, 2), false, 'nor after an escaped quote')
  t.equal(nestsDeeperThan(`{"s":"\\\\",${'"x":'.repeat(1)}${nested(5)}}`, 3), true, 'an escaped backslash ends nothing: the string closes')
  t.equal(nestsDeeperThan(nested(MAX_JSON_DEPTH, '{"a":', '}').replace(/\{"a":\}/, '{"a":1}'), MAX_JSON_DEPTH), false, 'the limit itself is accepted')
})

const lines: string[] = []
const stream = new Writable({ write (chunk, _encoding, done) { lines.push(String(chunk)); done() } })
const system = await startSystem(t, { config: { logLevel: { level: 'info', stream } as unknown as Config['logLevel'] } })
const base = system.gatewayUrl

async function patch (body: string, type = 'application/merge-patch+json'): Promise<{ status: number, json: any }> {
  const res = await request(`${base}/api/v1/nodes/node-moscow-1`, {
    method: 'PATCH',
    headers: { authorization: 'Bearer demo-admin-token', 'content-type': type },
    body
  })
  return { status: res.statusCode, json: await res.body.json() }
}

t.test('a merge patch 10,000 levels deep is a 400, and nothing is logged as an error', async (t) => {
  // What an admin may change; liveness moves on by itself (the test keeps the demo nodes alive).
  const configured = async (): Promise<unknown> => {
    const { last_seen: _seen, ...rest } = await system.store.collections.nodes.findOne({ _id: 'node-moscow-1' }) ?? {}
    return rest
  }
  const before = await configured()
  for (const type of ['application/merge-patch+json', 'application/json']) {
    const deep = await patch(`{"capacity":${nested(10_000, '{"a":', '}').replace(/\{"a":\}/, '{"a":1}')}}`, type)
    t.equal(deep.status, 400, type)
    t.equal(deep.json.error.code, 'GW_BAD_REQUEST')
    t.match(deep.json.error.message, `nests deeper than ${MAX_JSON_DEPTH} levels`)
  }
  t.same(await configured(), before, 'nothing changed')
  const logged = lines.map((line) => JSON.parse(line) as { level: number, err?: { stack?: string } })
  t.same(logged.filter((l) => l.level >= 50 || l.err?.stack !== undefined), [], 'no error and no stack in the log')
  const shallow = await patch('{"capacity":{"sessions":1000}}')
  t.equal(shallow.status, 200, `a patch of ordinary depth is taken: ${JSON.stringify(shallow.json)}`)
})
