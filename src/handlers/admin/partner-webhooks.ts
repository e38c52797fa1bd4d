// A partner's webhooks in the admin API: where its session events go, and the secret each is
// signed with. The secret must be stored as it is, since geogate signs with it (a hash would not
// do, unlike a node's key), so it is write-only instead: given with the URL, kept, and never in
// an answer, the audit trail or a log. A write that lists a URL already registered may leave
// its secret out, which keeps the stored one: the console edits a partner as the API shows it,
// without secrets, and saving must not lose them. A new URL needs its secret.

import { Type } from 'typebox'
import { gatewayError } from '../../errors.js'
import type { PartnerDoc, PartnerWebhook } from '../../store/documents.js'
import { DEFAULT_WEBHOOK_KEY_ID } from '../../webhooks/session-webhooks.js'
import { usableWebhookUrl } from '../../webhooks/webhook-delivery.js'

const strict = { additionalProperties: false }

/** Most webhooks one partner may register: each event is sent to each. */
export const MAX_WEBHOOKS = 4

const WebhookUrl = Type.Refine(
  Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2048, description: 'where the partner\'s session events are POSTed' }),
  usableWebhookUrl,
  () => 'is not an http or https URL without credentials or fragment'
)
const KeyId = Type.String({
  pattern: '^[A-Za-z0-9._-]{1,64}$',
  description: `what the signature names as the caller (id=…), for the receiver to pick its secret; absent: ${DEFAULT_WEBHOOK_KEY_ID}`
})

export const WebhookBody = Type.Object({
  url: WebhookUrl,
  key_id: Type.Optional(KeyId),
  secret: Type.Optional(Type.String({
    minLength: 32,
    maxLength: 512,
    pattern: '^\\S+$',
    description: 'the HMAC secret the events are signed with (32–512 characters); write-only: required for a new URL, kept when left out for a URL already registered, never shown'
  }))
}, strict)

export const Webhooks = Type.Array(WebhookBody, { maxItems: MAX_WEBHOOKS })

/** A webhook as answers show it: never its secret. */
export const WebhookView = Type.Object({ url: Type.String(), key_id: Type.Optional(Type.String()) })

interface WebhookInput {
  url: string
  key_id?: string
  secret?: string
}

/**
 * The webhooks to store for those given: each with its secret, given or kept from the stored
 * webhook of the same URL. GW_BAD_REQUEST, before anything is stored, for a URL listed twice or
 * a new URL without a secret.
 */
export function storedWebhooks (given: readonly WebhookInput[], existing: PartnerDoc | null): PartnerWebhook[] {
  const stored = Array.isArray(existing?.webhooks) ? existing.webhooks : []
  const seen = new Set<string>()
  return given.map((webhook, i) => {
    if (seen.has(webhook.url)) throw gatewayError('GW_BAD_REQUEST', `webhooks.${i}.url is listed twice`)
    seen.add(webhook.url)
    const secret = webhook.secret ?? stored.find((w) => w.url === webhook.url)?.secret
    if (typeof secret !== 'string') {
      throw gatewayError('GW_BAD_REQUEST', `webhooks.${i}.secret is required for a URL not registered before: 32–512 characters, which the receiver checks signatures with`)
    }
    return { url: webhook.url, ...(webhook.key_id !== undefined && { key_id: webhook.key_id }), secret }
  })
}

/** The partner's webhooks as answers and the audit show them: URL and key id. */
export function publicWebhooks (webhooks: unknown): Array<{ url: string, key_id?: string }> {
  if (!Array.isArray(webhooks)) return []
  return webhooks.map((w: Partial<PartnerWebhook>) => ({
    url: String(w.url),
    ...(typeof w.key_id === 'string' && { key_id: w.key_id })
  }))
}

type PartnerInput = Omit<PartnerDoc, 'webhooks'> & { webhooks?: WebhookInput[] }

/** The partner to store for a body; existing is the document it replaces, if any. */
export function storedPartner (body: PartnerInput, existing: PartnerDoc | null): PartnerDoc {
  const { webhooks, ...fields } = body
  return webhooks === undefined ? fields : { ...fields, webhooks: storedWebhooks(webhooks, existing) }
}

/** A partner as the API shows it: its webhooks without their secrets. */
export function publicPartner (doc: PartnerDoc): Omit<PartnerDoc, 'webhooks'> & { webhooks?: Array<{ url: string, key_id?: string }> } {
  const { webhooks, ...rest } = doc
  return webhooks === undefined ? rest : { ...rest, webhooks: publicWebhooks(webhooks) }
}
