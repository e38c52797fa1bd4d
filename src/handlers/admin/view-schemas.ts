// The shapes the admin API answers with, for response serialization and the OpenAPI document.

import { Type, type TSchema } from 'typebox'
import { NodeBody } from './schemas.js'

export const NodeView = Type.Object({
  ...Type.Omit(NodeBody, ['key']).properties,
  has_key: Type.Boolean(),
  /** Only in the answer to a create without a key: the generated key, shown this once. */
  key: Type.Optional(Type.String({ description: 'the generated heartbeat key, shown only in this answer' })),
  last_seen: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'the last heartbeat' }),
  load: Type.Object({ sessions: Type.Number(), mbps: Type.Number(), cpu: Type.Number() })
})

export function listOf (item: TSchema): TSchema {
  return Type.Object({ items: Type.Array(item) })
}
