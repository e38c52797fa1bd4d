// Session events for partners (SessionEvents, src/billing/session-events.ts): a session's start
// and end, POSTed as JSON to every webhook the partner of the session's video server registered
// (partners.webhooks), signed and retried by the delivery queue (webhook-delivery.ts).
//
// started() and ended() run where sessions are admitted and ended, on the paths that answer
// nodes and viewers, so they only push the session onto a bounded list and return; whether
// anyone listens at all is one property read. The rest happens after the caller's turn, a batch
// at a time: the server's partner, from the server directory's cache (a store read only when a
// server is not cached, once for all the batch's events of that server), the partner's webhooks
// from this replica's routing view (no store read), the viewer's country from the local City
// database when the session does not carry it, the JSON, then one delivery per webhook.
//
// The body, one per event:
//
//   {"event": "session.started" | "session.ended", "id": "<session>/<start ms>/<started|ended>",
//    "session", "partner", "owner", "token" (the token id or null), "server", "camera", "node",
//    "format", "country" (ISO or null), "started_at", "ended_at" (null at the start),
//    "duration_s" (null at the start), "bytes" (null when unknown), "reason" (null at the start)}
//
// The id is the same for every attempt and every replica: a receiver drops what it has seen.

import type { SessionEndReason, SessionEvents, SessionRecord } from '../billing/session-events.js'
import type { PartnerDoc, PartnerWebhook } from '../store/documents.js'
import { usableWebhookUrl, type WebhookDelivery, type WebhookDropReason, type WebhookTarget } from './webhook-delivery.js'

/** The key id a signature names when the webhook does not name one. */
export const DEFAULT_WEBHOOK_KEY_ID = 'geogate'

export interface SessionWebhooksOptions {
  delivery: Pick<WebhookDelivery, 'send'>
  /** The partner of a video server (undefined: no such server); may reject when it cannot be read. */
  partnerOf: (server: string) => Promise<string | undefined> | string | undefined
  /** The webhooks a partner registered, as this replica's routing view holds them. */
  webhooksOf: (partner: string) => readonly PartnerWebhook[] | undefined
  /** Whether any partner has registered one; while none has, events are not even queued. */
  anyWebhooks: () => boolean
  /** The country of an address (ISO 3166-1), when the session does not say it. */
  countryOf?: (address: string) => string | null | undefined
  /** Most events waiting for their partner to be learned. */
  maxPending: number
  now: () => number
  /** An event given up before it reached the delivery queue; its partner may not be known. */
  onDropped?: (partner: string, reason: WebhookDropReason) => void
}

/** The partner label of an event dropped before its partner was learned. */
export const UNKNOWN_PARTNER = 'unknown'

interface Pending {
  session: SessionRecord
  reason: SessionEndReason | null
  endedAt: number | null
}

/** Events taken from the pending list per round: a store read per distinct server at most. */
const BATCH = 1000

export interface SessionWebhooks extends SessionEvents {
  /** Events waiting for their partner to be learned (before the delivery queue). */
  readonly pending: number
}

export function createSessionWebhooks (options: SessionWebhooksOptions): SessionWebhooks {
  let pending: Pending[] = []
  let draining = false
  const targets = new WeakMap<PartnerWebhook, WebhookTarget | null>()

  function queue (event: Pending): void {
    if (pending.length >= options.maxPending) {
      options.onDropped?.(UNKNOWN_PARTNER, 'queue_full')
      return
    }
    pending.push(event)
    if (!draining) {
      draining = true
      setImmediate(drain)
    }
  }

  function targetOf (webhook: PartnerWebhook): WebhookTarget | null {
    let target = targets.get(webhook)
    if (target === undefined) {
      target = readTarget(webhook)
      targets.set(webhook, target)
    }
    return target
  }

  function countryOf (session: SessionRecord): string | null {
    if (typeof session.country === 'string') return session.country
    if (session.address === undefined || options.countryOf === undefined) return null
    return options.countryOf(session.address) ?? null
  }

  function tell (event: Pending, partner: string): void {
    const webhooks = options.webhooksOf(partner)
    if (webhooks === undefined || webhooks.length === 0) return
    const body = JSON.stringify(eventBody(event, partner, countryOf(event.session)))
    for (const webhook of webhooks) {
      const target = targetOf(webhook)
      if (target !== null) options.delivery.send(partner, target, body)
    }
  }

  async function drain (): Promise<void> {
    try {
      while (pending.length > 0) {
        const batch = pending.length <= BATCH ? pending : pending.slice(0, BATCH)
        pending = batch === pending ? [] : pending.slice(BATCH)
        // Each server asked once, all at once; a failure is kept as a value, not left rejected.
        const partners = new Map<string, Promise<{ partner: string | undefined } | undefined>>()
        for (const { session } of batch) {
          if (partners.has(session.server)) continue
          partners.set(session.server, Promise.resolve()
            .then(() => options.partnerOf(session.server))
            .then((partner) => ({ partner }), () => undefined))
        }
        for (const event of batch) {
          const found = await partners.get(event.session.server)
          if (found === undefined) options.onDropped?.(UNKNOWN_PARTNER, 'unresolved')
          else if (found.partner !== undefined) tell(event, found.partner)
        }
      }
    } finally {
      draining = false
    }
  }

  return {
    get pending () { return pending.length },
    get wanted () { return options.anyWebhooks() },
    started (session) {
      if (!options.anyWebhooks()) return
      queue({ session, reason: null, endedAt: null })
    },
    ended (session, reason, endedAt) {
      if (!options.anyWebhooks()) return
      queue({ session, reason, endedAt: endedAt?.getTime() ?? options.now() })
    }
  }
}

/** A stored webhook as the delivery takes it; null when it cannot be one (written behind the API's back). */
function readTarget (webhook: PartnerWebhook): WebhookTarget | null {
  const { url, secret } = webhook as Partial<PartnerWebhook>
  if (!usableWebhookUrl(url) || typeof secret !== 'string' || secret === '') return null
  const keyId = typeof webhook.key_id === 'string' ? webhook.key_id : DEFAULT_WEBHOOK_KEY_ID
  return { url, keyId, secret }
}

function eventBody (event: Pending, partner: string, country: string | null): Record<string, unknown> {
  const { session, reason, endedAt } = event
  const startedAt = session.started_at.getTime()
  const kind = reason === null ? 'started' : 'ended'
  return {
    event: `session.${kind}`,
    id: `${session._id}/${startedAt}/${kind}`,
    session: session._id,
    partner,
    owner: session.owner,
    token: session.tid ?? null,
    server: session.server,
    camera: session.camera,
    node: session.node,
    format: session.format,
    country,
    started_at: session.started_at.toISOString(),
    ended_at: endedAt === null ? null : new Date(endedAt).toISOString(),
    duration_s: endedAt === null ? null : Math.max(0, endedAt - startedAt) / 1000,
    bytes: typeof session.bytes === 'number' ? session.bytes : null,
    reason
  }
}

/**
 * webhooksOf and anyWebhooks over a map of partners that is replaced whole when any partner
 * changes (the routing view's): whether any has a webhook is worked out once per map.
 */
export function webhooksOfPartners (partners: () => ReadonlyMap<string, PartnerDoc> | undefined): Pick<SessionWebhooksOptions, 'webhooksOf' | 'anyWebhooks'> {
  let seen: ReadonlyMap<string, PartnerDoc> | undefined
  let any = false
  return {
    webhooksOf: (partner) => partners()?.get(partner)?.webhooks,
    anyWebhooks () {
      const current = partners()
      if (current !== seen) {
        seen = current
        any = current !== undefined && [...current.values()].some((p) => Array.isArray(p.webhooks) && p.webhooks.length > 0)
      }
      return any
    }
  }
}
