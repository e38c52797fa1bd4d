// The resolver's wire shapes: what /resolve and /resolve/batch accept and answer, per status code.

import { Type, type Static } from 'typebox'

export const ResolveQuery = Type.Object({
  // 45 characters: the longest IPv6 text form (an IPv4-mapped address written out in full).
  ip: Type.String({ minLength: 1, maxLength: 45 })
})
export type ResolveQuery = Static<typeof ResolveQuery>

/** Most addresses in one POST /resolve/batch. */
export const RESOLVE_BATCH_MAX = 128
/** Its body limit, whatever the app's: RESOLVE_BATCH_MAX of the longest addresses, quoted, fit. */
export const RESOLVE_BATCH_BODY_LIMIT = 8 * 1024

export const ResolveBatchBody = Type.Object({
  ips: Type.Array(Type.String({ minLength: 1, maxLength: 45 }), { minItems: 1, maxItems: RESOLVE_BATCH_MAX })
}, { additionalProperties: false })
export type ResolveBatchBody = Static<typeof ResolveBatchBody>

const StringOrNull = Type.Union([Type.String(), Type.Null()])

export const ResolveAnswer = Type.Object({
  country_code: StringOrNull,
  region_iso: StringOrNull,
  city: StringOrNull,
  coordinates: Type.Union([Type.Tuple([Type.Number(), Type.Number()]), Type.Null()]),
  country_only: Type.Boolean(),
  asn: Type.Optional(Type.Integer()),
  org: Type.Optional(Type.String())
})
export type ResolveAnswerBody = Static<typeof ResolveAnswer>

/** One answer per address, in their order: the location, or null (no data, or not an address). */
export const ResolveBatchAnswer = Type.Object({
  answers: Type.Array(Type.Union([ResolveAnswer, Type.Null()]))
})
export type ResolveBatchAnswerBody = Static<typeof ResolveBatchAnswer>
