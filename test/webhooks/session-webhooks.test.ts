// Session events into webhook calls, without HTTP: what each event's JSON says, which webhooks
// get it (the partner of the session's server), what is skipped or dropped, and that started()
// and ended() do no more than queue. The delivery is a recording object (its own test sends).

import t from 'tap'
import type { SessionRecord } from '../../src/billing/session-events.js'
import type { PartnerDoc } from '../../src/store/documents.js'
import { createSessionWebhooks, webhooksOfPartners, type SessionWebhooksOptions } from '../../src/webhooks/session-webhooks.js'
import type { WebhookDropReason, WebhookTarget } from '../../src/webhooks/webhook-delivery.js'
import { waitFor } from './receiver.js'

const T0 = Date.parse('2030-01-01T00:00:00Z')
const SECRET = 'a-webhook-secret-of-at-least-32-characters'

interface Sent { partner: string, target: WebhookTarget, body: any }

function setup (options: Partial<SessionWebhooksOptions> & { partners?: PartnerDoc[] } = {}): {
  events: ReturnType<typeof createSessionWebhooks>
  sent: Sent[]
  dropped: Array<[string, WebhookDropReason]>
  asked: string[]
} {
  const sent: Sent[] = []
  const dropped: Array<[string, WebhookDropReason]> = []
  const asked: string[] = []
  const partners = new Map((options.partners ?? [
    { _id: 'p1', name: 'P1', pattern_fallbacks: {}, webhooks: [{ url: 'https://a.example/events', secret: SECRET }, { url: 'https://b.example/events', key_id: 'k2', secret: SECRET }] },
    { _id: 'p2', name: 'P2', pattern_fallbacks: {} }
  ]).map((p) => [p._id, p]))
  const servers: Record<string, string> = { 'srv-1': 'p1', 'srv-2': 'p2' }
  const events = createSessionWebhooks({
    delivery: { send: (partner, target, body) => { sent.push({ partner, target, body: JSON.parse(body) }); return true } },
    partnerOf: async (server) => {
      asked.push(server)
      return servers[server]
    },
    ...webhooksOfPartners(() => partners),
    countryOf: (address) => address === '81.2.69.160' ? 'GB' : null,
    maxPending: 100,
    now: () => T0 + 60_000,
    onDropped: (partner, reason) => dropped.push([partner, reason]),
    ...options
  })
  return { events, sent, dropped, asked }
}

function session (fields: Partial<SessionRecord> = {}): SessionRecord {
  return { _id: 'node-1:client-1', owner: 'acct-1', node: 'node-1', server: 'srv-1', camera: 'cam-1', format: 'flv', started_at: new Date(T0), ...fields }
}

t.test('a start and an end become one JSON each, sent to every webhook of the server\'s partner', async (t) => {
  const { events, sent } = setup()
  events.started(session({ tid: 'ab'.repeat(32), address: '81.2.69.160' }))
  events.ended(session({ country: 'DE', bytes: 123_456 }), 'stopped')
  t.equal(sent.length, 0, 'nothing is done in the caller\'s turn')
  t.equal(events.pending, 2)
  await waitFor('four calls', () => sent.length === 4)
  t.same(sent.map((s) => [s.partner, s.target.url, s.target.keyId]), [
    ['p1', 'https://a.example/events', 'geogate'],
    ['p1', 'https://b.example/events', 'k2'],
    ['p1', 'https://a.example/events', 'geogate'],
    ['p1', 'https://b.example/events', 'k2']
  ])
  t.same(sent[0]?.body, {
    event: 'session.started',
    id: `node-1:client-1/${T0}/started`,
    session: 'node-1:client-1',
    partner: 'p1',
    owner: 'acct-1',
    token: 'ab'.repeat(32),
    server: 'srv-1',
    camera: 'cam-1',
    node: 'node-1',
    format: 'flv',
    country: 'GB',
    started_at: new Date(T0).toISOString(),
    ended_at: null,
    duration_s: null,
    bytes: null,
    reason: null
  })
  t.same(sent[2]?.body, {
    event: 'session.ended',
    id: `node-1:client-1/${T0}/ended`,
    session: 'node-1:client-1',
    partner: 'p1',
    owner: 'acct-1',
    token: null,
    server: 'srv-1',
    camera: 'cam-1',
    node: 'node-1',
    format: 'flv',
    country: 'DE',
    started_at: new Date(T0).toISOString(),
    ended_at: new Date(T0 + 60_000).toISOString(),
    duration_s: 60,
    bytes: 123_456,
    reason: 'stopped'
  })
  t.notOk(JSON.stringify(sent.map((s) => s.body)).includes('81.2.69.160'), 'the viewer\'s address is not sent')
  t.equal(sent[0]?.target, sent[2]?.target, 'one target object per stored webhook: its signer is made once')
})

t.test('an end at a given time; its server asked once per batch', async (t) => {
  const { events, sent, asked } = setup()
  for (let i = 0; i < 5; i++) events.ended(session({ _id: `n:${i}` }), 'expired', new Date(T0 + 30_500))
  await waitFor('ten calls', () => sent.length === 10)
  t.same(asked, ['srv-1'])
  t.match(sent[0]?.body, { reason: 'expired', ended_at: new Date(T0 + 30_500).toISOString(), duration_s: 30.5 })
})

t.test('nothing for a partner without webhooks, a server without a partner, or while no partner has one', async (t) => {
  const { events, sent, asked } = setup()
  events.started(session({ server: 'srv-2' }))
  events.started(session({ server: 'srv-unknown' }))
  await waitFor('both asked', () => asked.length === 2)
  await new Promise((resolve) => setImmediate(resolve))
  t.same(sent, [])

  const quiet = setup({ partners: [{ _id: 'p1', name: 'P1', pattern_fallbacks: {} }] })
  t.equal(quiet.events.wanted, false)
  quiet.events.started(session())
  quiet.events.ended(session(), 'stopped')
  t.equal(quiet.events.pending, 0, 'not even queued')
})

t.test('a server whose partner cannot be read: its events are dropped as unresolved', async (t) => {
  const { events, sent, dropped } = setup({ partnerOf: async () => { throw new Error('store down') } })
  events.started(session())
  events.started(session({ _id: 'n:2' }))
  await waitFor('the drops', () => dropped.length === 2)
  t.same(dropped, [['unknown', 'unresolved'], ['unknown', 'unresolved']])
  t.same(sent, [])
})

t.test('events past maxPending are dropped at once', async (t) => {
  const { events, sent, dropped } = setup({ maxPending: 2 })
  for (let i = 0; i < 5; i++) events.started(session({ _id: `n:${i}` }))
  t.same(dropped, [['unknown', 'queue_full'], ['unknown', 'queue_full'], ['unknown', 'queue_full']])
  await waitFor('the two kept', () => sent.length === 4)
})

t.test('a stored webhook the delivery cannot use is skipped', async (t) => {
  const { events, sent } = setup({
    partners: [{
      _id: 'p1',
      name: 'P1',
      pattern_fallbacks: {},
      webhooks: [
        { url: 'ftp://a.example/events', secret: SECRET },
        { url: 'https://b.example/events', secret: '' },
        { url: 'https://c.example/events', secret: SECRET }
      ]
    }]
  })
  events.started(session())
  await waitFor('one call', () => sent.length === 1)
  t.equal(sent[0]?.target.url, 'https://c.example/events')
})

t.test('webhooksOfPartners reads whether any partner has one once per map', async (t) => {
  let map = new Map<string, PartnerDoc>([['p1', { _id: 'p1', name: 'P1', pattern_fallbacks: {} }]])
  let reads = 0
  const view = webhooksOfPartners(() => { reads++; return map })
  t.equal(view.anyWebhooks(), false)
  map = new Map([['p1', { _id: 'p1', name: 'P1', pattern_fallbacks: {}, webhooks: [{ url: 'https://a.example/', secret: SECRET }] }]])
  t.equal(view.anyWebhooks(), true)
  t.equal(view.anyWebhooks(), true)
  t.same(view.webhooksOf('p1'), [{ url: 'https://a.example/', secret: SECRET }])
  t.equal(view.webhooksOf('p2'), undefined)
  t.equal(reads, 5)
})
