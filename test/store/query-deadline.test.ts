// withinDeadline: the client-side half of the request path's query deadline (the server's half,
// maxTimeMS, is checked in test/directory/query-timeout.test.ts).

import net from 'node:net'
import t from 'tap'
import { MongoClient } from 'mongodb'
import { createServerDirectory } from '../../src/directory/server-directory.js'
import type { ServerDoc } from '../../src/store/documents.js'
import { withinDeadline } from '../../src/store/query-deadline.js'

t.test('an answer in time is passed through, with the bound handed to the query', async (t) => {
  t.equal(await withinDeadline(500, async (bound) => `maxTimeMS ${bound.maxTimeMS}`), 'maxTimeMS 500')
  await t.rejects(withinDeadline(500, async () => { throw new Error('duplicate key') }), /duplicate key/, 'a failure in time is the query\'s own')
})

t.test('no answer in time rejects with a TimeoutError, and a late failure goes nowhere', async (t) => {
  let fail: (err: Error) => void = () => {}
  const never = new Promise<string>((_resolve, reject) => { fail = reject })
  await t.rejects(withinDeadline(30, async () => await never), { name: 'TimeoutError', message: 'no answer within 30 ms' })
  fail(new Error('connection reset, long after'))
  await new Promise((resolve) => setImmediate(resolve))
  t.pass('no unhandled rejection')
})

t.test('a MongoDB that accepts connections and never answers costs a client the deadline, not minutes', async (t) => {
  const silent = net.createServer(() => { /* accepts and says nothing */ })
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  const sockets = new Set<net.Socket>()
  silent.on('connection', (socket) => sockets.add(socket))
  const { port } = silent.address() as net.AddressInfo
  const client = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, { serverSelectionTimeoutMS: 20_000, connectTimeoutMS: 20_000 })
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy()
    await client.close(true).catch(() => {})
    await new Promise<void>((resolve) => silent.close(() => resolve()))
  })
  const directory = createServerDirectory({ servers: client.db('geogate').collection<ServerDoc>('servers'), cacheTtlMs: 1000, queryTimeoutMs: 200 })
  const started = Date.now()
  await t.rejects(directory.requireOnlineCamera('UIN-DEMO-1', 'cam-1'), { code: 'GW_DEPENDENCY_DOWN' })
  t.ok(Date.now() - started < 5000, `answered after ${Date.now() - started} ms, not after the driver's 20 s`)
})
