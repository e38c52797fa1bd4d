// Clients for destinations learnt at run time: one per destination, at most max, an idle one
// making room first, and a close that reaches the evicted too.

import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { createUpstreamClientPool } from '../../src/upstream/client-pool.js'
import { createUpstreamClient, type UpstreamClient } from '../../src/upstream/upstream-client.js'

const server = http.createServer((_request, response) => response.end('ok'))
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
t.teardown(() => server.close())
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

function pool (busy: Set<string> = new Set()): { pool: ReturnType<typeof createUpstreamClientPool>, made: Map<string, UpstreamClient> } {
  const made = new Map<string, UpstreamClient>()
  return {
    made,
    pool: createUpstreamClientPool({
      max: 2,
      busy: (key) => busy.has(key),
      make: (key) => {
        const client = createUpstreamClient({ name: key, url: origin, timeoutMs: 1000, connections: 1, breaker: { failureThreshold: 5, cooldownMs: 1000 } })
        made.set(key, client)
        return client
      }
    })
  }
}

const text = async (client: UpstreamClient): Promise<string> => await client.call({ method: 'GET', path: '/' }, async (answer) => await answer.text())

t.test('one client per destination, kept while used', async (t) => {
  const { pool: clients, made } = pool()
  t.equal(clients.get('a'), clients.get('a'))
  t.equal(await text(clients.get('a')), 'ok')
  t.equal(made.size, 1)
  await clients.close('close')
})

t.test('the least recently used idle destination makes room', async (t) => {
  const busy = new Set(['a'])
  const { pool: clients, made } = pool(busy)
  clients.get('a')
  clients.get('b')
  clients.get('a')
  clients.get('c')
  t.equal(clients.size, 2)
  t.equal(clients.get('a'), made.get('a'), 'a, busy, is kept though it was used before b')
  await t.rejects(text(made.get('b') as UpstreamClient), 'b was closed')
  await clients.close('destroy')
})

t.test('with every destination busy, the least recently used makes room', async (t) => {
  const { pool: clients, made } = pool(new Set(['a', 'b', 'c']))
  clients.get('a')
  clients.get('b')
  const first = made.get('a')
  clients.get('c')
  t.equal(clients.size, 2)
  t.not(clients.get('a'), first, 'a, the least recently used, made room and is made again')
  await clients.close('destroy')
})
