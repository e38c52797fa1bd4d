// The webhook delivery queue against real receivers on loopback: each call signed with the
// target's secret, retries with doubling waits, bounded attempts, a bounded queue whose drops are
// told, a receiver that never answers holding no more than its origin's connections, and send()
// returning before any call is made.

import { createServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { createWebhookDelivery, usableWebhookUrl, type WebhookDeliveryOptions, type WebhookDropReason, type WebhookTarget } from '../../src/webhooks/webhook-delivery.js'
import { startReceiver, waitFor } from './receiver.js'

const SECRET = 'a-webhook-secret-of-at-least-32-characters'

interface Told {
  delivered: string[]
  failed: string[]
  dropped: Array<[string, WebhookDropReason]>
  retries: Array<[number, number]>
}

function delivery (t: Test, options: Partial<WebhookDeliveryOptions> = {}): ReturnType<typeof createWebhookDelivery> & { told: Told } {
  const told: Told = { delivered: [], failed: [], dropped: [], retries: [] }
  const queue = createWebhookDelivery({
    maxQueued: 100,
    timeoutMs: 2000,
    maxAttempts: 3,
    retryMs: 10,
    retryMaxMs: 1000,
    connectionsPerOrigin: 2,
    // The full wait each time: the waits are exact.
    random: () => 1,
    onDelivered: (partner) => told.delivered.push(partner),
    onFailed: (partner) => told.failed.push(partner),
    onDropped: (partner, reason) => told.dropped.push([partner, reason]),
    onRetry: (_partner, attempt, delayMs) => told.retries.push([attempt, delayMs]),
    ...options
  })
  t.teardown(() => queue.close())
  return Object.assign(queue, { told })
}

const target = (url: string, keyId = 'geogate'): WebhookTarget => ({ url, keyId, secret: SECRET })

/** A server that accepts connections and never says a word: a black hole. */
async function blackHole (t: Test): Promise<{ url: string, readonly connections: number }> {
  const sockets = new Set<Socket>()
  let connections = 0
  const server = createServer((socket) => {
    connections++
    sockets.add(socket)
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy()
    server.close(() => resolve())
  }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, get connections () { return connections } }
}

t.test('a call is a POST of the body to the URL\'s path and query, signed with the target\'s key id and secret', async (t) => {
  const receiver = await startReceiver(t, { secret: SECRET, keyId: 'partner-key-2' })
  const queue = delivery(t)
  t.equal(queue.send('p1', target(`${receiver.url}/hooks/geogate?via=test`, 'partner-key-2'), '{"event":"session.started"}'), true)
  t.equal(receiver.received.length, 0, 'send() made no call: it only queued')
  await waitFor('the delivery', () => queue.told.delivered.length === 1)
  const [call] = receiver.received
  t.equal(call?.method, 'POST')
  t.equal(call?.url, '/hooks/geogate?via=test')
  t.equal(call?.headers['content-type'], 'application/json')
  t.equal(call?.body, '{"event":"session.started"}')
  t.equal(call?.signed, true, 'the HMAC holds for the shared secret')
  t.equal(call?.claim?.id, 'partner-key-2')
  t.equal(queue.size, 0)
  t.same(queue.told, { delivered: ['p1'], failed: [], dropped: [], retries: [] })
})

t.test('a signature made with another secret does not verify', async (t) => {
  const receiver = await startReceiver(t, { secret: 'the-receivers-own-secret-which-differs-0000' })
  const queue = delivery(t, { maxAttempts: 1 })
  queue.send('p1', target(receiver.url), '{}')
  await waitFor('the call', () => receiver.received.length === 1)
  t.equal(receiver.received[0]?.signed, false)
})

t.test('a failing receiver is retried, each wait twice the one before, until it takes the event', async (t) => {
  const receiver = await startReceiver(t, { secret: SECRET, answer: (n) => n < 3 ? 500 : 200 })
  const queue = delivery(t, { maxAttempts: 5, retryMs: 20 })
  queue.send('p1', target(receiver.url), '{"n":1}')
  await waitFor('the delivery', () => queue.told.delivered.length === 1)
  t.same(queue.told.retries, [[1, 20], [2, 40], [3, 80]], 'after attempts 1, 2 and 3: waits of 20, 40 and 80 ms')
  t.equal(queue.told.failed.length, 3)
  t.equal(receiver.received.length, 4)
  t.ok(receiver.received.every((call) => call.signed && call.body === '{"n":1}'), 'every attempt signed, with the same body')
  t.equal(new Set(receiver.received.map((call) => call.claim?.nonce)).size, 4, 'each attempt with a nonce of its own')
  t.same(queue.told.dropped, [])
})

t.test('the waits stop growing at retryMaxMs, and jitter takes at most half of one', async (t) => {
  const receiver = await startReceiver(t, { secret: SECRET, answer: () => 503 })
  const queue = delivery(t, { maxAttempts: 5, retryMs: 10, retryMaxMs: 25, random: () => 0 })
  queue.send('p1', target(receiver.url), '{}')
  await waitFor('the last attempt', () => queue.told.dropped.length === 1)
  t.same(queue.told.retries, [[1, 5], [2, 10], [3, 13], [4, 13]], 'half of 10, 20, 25, 25')
})

t.test('an event every attempt of which fails is dropped after the last one, and told', async (t) => {
  const receiver = await startReceiver(t, { secret: SECRET, answer: () => 500 })
  const queue = delivery(t, { maxAttempts: 3 })
  queue.send('p1', target(receiver.url), '{}')
  await waitFor('the drop', () => queue.told.dropped.length === 1)
  t.equal(receiver.received.length, 3)
  t.same(queue.told.dropped, [['p1', 'retries_exhausted']])
  t.equal(queue.told.failed.length, 3)
  t.equal(queue.size, 0)
})

t.test('a receiver that never answers holds its origin\'s connections and nothing more; the queue drops what it cannot hold', async (t) => {
  const hole = await blackHole(t)
  const queue = delivery(t, { maxQueued: 5, connectionsPerOrigin: 2, timeoutMs: 60_000 })
  const accepted = Array.from({ length: 8 }, (_, i) => queue.send('p1', target(hole.url), `{"i":${i}}`))
  t.same(accepted, [true, true, true, true, true, false, false, false], 'five held, three refused at once')
  t.same(queue.told.dropped, [['p1', 'queue_full'], ['p1', 'queue_full'], ['p1', 'queue_full']])
  t.equal(queue.size, 5)
  await waitFor('two connections', () => hole.connections === 2)

  // Another origin is not held up behind the black hole.
  const receiver = await startReceiver(t, { secret: SECRET })
  t.equal(queue.send('p2', target(receiver.url), '{}'), false, 'the queue is full for every origin')
  const roomy = delivery(t, { maxQueued: 10, connectionsPerOrigin: 1, timeoutMs: 60_000 })
  for (let i = 0; i < 5; i++) roomy.send('p1', target(hole.url), '{}')
  roomy.send('p2', target(receiver.url), '{"other":true}')
  await waitFor('the other origin\'s delivery', () => roomy.told.delivered.length === 1)
  t.same(roomy.told.delivered, ['p2'])
  t.equal(hole.connections, 3, 'the second queue opened one connection to the black hole')
})

t.test('a call that outlasts the deadline fails, and is retried', async (t) => {
  const hole = await blackHole(t)
  const queue = delivery(t, { timeoutMs: 50, maxAttempts: 2 })
  queue.send('p1', target(hole.url), '{}')
  await waitFor('the drop', () => queue.told.dropped.length === 1)
  t.same(queue.told.dropped, [['p1', 'retries_exhausted']])
  t.equal(queue.told.failed.length, 2)
})

t.test('closing drops what waits and waits for nothing it has not sent', async (t) => {
  const receiver = await startReceiver(t, { secret: SECRET, answer: () => 500 })
  const queue = delivery(t, { retryMs: 60_000, maxAttempts: 5 })
  queue.send('p1', target(receiver.url), '{}')
  await waitFor('a retry scheduled', () => queue.told.retries.length === 1)
  await queue.close()
  t.same(queue.told.dropped, [['p1', 'shutdown']])
  t.equal(queue.send('p1', target(receiver.url), '{}'), false)
  t.same(queue.told.dropped.at(-1), ['p1', 'shutdown'])
})

t.test('closing abandons a call in flight to a receiver that never answers, and tells it as dropped', async (t) => {
  const hole = await blackHole(t)
  const queue = delivery(t, { timeoutMs: 600_000 })
  queue.send('p1', target(hole.url), '{}')
  await waitFor('the connection', () => hole.connections === 1)
  await queue.close()
  t.same(queue.told.dropped, [['p1', 'shutdown']])
  t.same(queue.told.retries, [], 'not retried')
  t.equal(queue.size, 0)
})

t.test('pools are kept for at most maxOrigins origins', async (t) => {
  const receivers = await Promise.all([1, 2, 3].map(async () => await startReceiver(t, { secret: SECRET })))
  const queue = delivery(t, { maxOrigins: 1 })
  for (const round of [1, 2]) {
    for (const receiver of receivers) queue.send('p1', target(receiver.url), `{"round":${round}}`)
  }
  await waitFor('six deliveries', () => queue.told.delivered.length === 6)
  t.same(receivers.map((r) => r.received.length), [2, 2, 2])
})

t.test('what a webhook URL may be', async (t) => {
  t.ok(usableWebhookUrl('https://billing.example/geogate/events?source=gw'))
  t.ok(usableWebhookUrl('http://10.0.0.5:8088/hook'))
  t.notOk(usableWebhookUrl('ftp://billing.example/events'))
  t.notOk(usableWebhookUrl('https://user:password@billing.example/events'), 'credentials')
  t.notOk(usableWebhookUrl('https://billing.example/events#x'), 'a fragment')
  t.notOk(usableWebhookUrl('billing.example/events'))
  t.notOk(usableWebhookUrl(42))
  t.throws(() => createWebhookDelivery({ maxQueued: 0, timeoutMs: 1, maxAttempts: 1, retryMs: 1, retryMaxMs: 1, connectionsPerOrigin: 1 }), TypeError)
})
