// The shapes the admin API answers with, for response serialization and the OpenAPI document.

import { Type, type TSchema } from 'typebox'
import { nodeReportedStatuses } from '../../store/documents.js'
import { WebhookView } from './partner-webhooks.js'
import { NodeBody, PartnerBody } from './schemas.js'

export const NodeView = Type.Object({
  ...Type.Omit(NodeBody, ['key']).properties,
  draining: Type.Boolean({ description: 'the admin\'s drain: no new viewers while true; heartbeats never change it' }),
  has_key: Type.Boolean(),
  /** Only in the answer to a create without a key: the generated key, shown this once. */
  key: Type.Optional(Type.String({ description: 'the generated heartbeat key, shown only in this answer' })),
  last_seen: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'the last heartbeat' }),
  load: Type.Object({ sessions: Type.Number(), mbps: Type.Number(), cpu: Type.Number() }),
  reported_status: Type.Union([...nodeReportedStatuses.map((s) => Type.Literal(s)), Type.Null()], {
    description: 'what the node\'s last heartbeat said of itself (null: none yet); draining takes it out of new choices, as `draining` (the admin\'s) does'
  })
})

/** A partner as answers show it: its webhooks without their secrets. */
export const PartnerView = Type.Object({
  ...Type.Omit(PartnerBody, ['webhooks']).properties,
  webhooks: Type.Optional(Type.Array(WebhookView, { description: 'where session events are POSTed; the secrets are never shown' }))
})

export function listOf (item: TSchema): TSchema {
  return Type.Object({ items: Type.Array(item) })
}
