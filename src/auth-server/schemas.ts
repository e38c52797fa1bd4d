// The auth-server's wire contract: `POST /authorize`, `POST /introspect` and
// `POST /introspect/batch` bodies and answers, and `GET /healthz`.

import { Type, type Static } from 'typebox'

// Ids are plain words; object ids add '/' (SERVER/CAMERA) and '*' (a wildcard asked about as itself).
const word = Type.String({ minLength: 1, maxLength: 256, pattern: '^[A-Za-z0-9._:-]+$' })
const objectId = Type.String({ minLength: 1, maxLength: 256, pattern: '^[A-Za-z0-9._:/*-]+$' })

export const AuthorizeBody = Type.Object({
  // Any characters: the token is only ever hashed, never placed in a query as itself.
  token: Type.String({ minLength: 1, maxLength: 4096 }),
  rights: word,
  object_type: word,
  object_id: objectId
}, { additionalProperties: false })

export type AuthorizeRequest = Static<typeof AuthorizeBody>

export const AuthorizeAnswer = Type.Object({
  owner_type: Type.String(),
  owner_id: Type.String(),
  /** ISO 8601; null: the token never expires. */
  expires_at: Type.Union([Type.String(), Type.Null()])
}, { additionalProperties: false })

export type AuthorizeReply = Static<typeof AuthorizeAnswer>

export const IntrospectBody = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 4096 })
}, { additionalProperties: false })

export type IntrospectRequest = Static<typeof IntrospectBody>

/** Most tokens in one POST /introspect/batch. */
export const INTROSPECT_BATCH_MAX = 64

export const IntrospectBatchBody = Type.Object({
  tokens: Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), { minItems: 1, maxItems: INTROSPECT_BATCH_MAX })
}, { additionalProperties: false })

export type IntrospectBatchRequest = Static<typeof IntrospectBatchBody>

/** RFC 7662's answer: inactive, or everything the token may do. */
export const IntrospectAnswer = Type.Union([
  Type.Object({ active: Type.Literal(false) }, { additionalProperties: false }),
  Type.Object({
    active: Type.Literal(true),
    owner_type: Type.String(),
    owner_id: Type.String(),
    grants: Type.Array(Type.Object({
      object_type: Type.String(),
      object_id: Type.String(),
      rights: Type.Array(Type.String())
    }, { additionalProperties: false })),
    /** Seconds since the epoch; null: the token never expires. */
    exp: Type.Union([Type.Integer(), Type.Null()]),
    /** The most viewers the token may feed at once; null: no limit of its own. */
    max_sessions: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])
  }, { additionalProperties: false })
])

/** One introspection answer per token, in their order. */
export const IntrospectBatchAnswer = Type.Object({
  answers: Type.Array(IntrospectAnswer)
}, { additionalProperties: false })
