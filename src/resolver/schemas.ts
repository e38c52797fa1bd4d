// The resolver's wire shapes: what /resolve accepts and answers, per status code.

import { Type, type Static } from 'typebox'

export const ResolveQuery = Type.Object({
  // 45 characters: the longest IPv6 text form (an IPv4-mapped address written out in full).
  ip: Type.String({ minLength: 1, maxLength: 45 })
})
export type ResolveQuery = Static<typeof ResolveQuery>

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
