// Wire shapes every geogate app shares: the error body, the health answer, and the id and
// address formats that request fields are checked against before they reach logic or MongoDB.

import { Type } from 'typebox'

/** A video server's UIN or a camera id. */
export const UIN_PATTERN = '^[A-Za-z0-9._:-]{1,64}$'

/** An id of a document the admin API edits (node, geo group, partner, …). */
export const Id = Type.String({ pattern: UIN_PATTERN })

/** An IPv4 or IPv6 address as text; whether it parses is checked by the route. */
export const ClientAddress = Type.String({ minLength: 2, maxLength: 45, pattern: '^[0-9A-Fa-f:.]+$' })

export const ErrorResponse = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() })
})

export const HealthAnswer = Type.Object({ status: Type.Literal('ok') })

/** A node role ('streaming', 'archive', …), as patterns and fallbacks name them. */
export const ROLE_PATTERN = '^[a-z0-9_-]{1,32}$'
export const Role = Type.String({ pattern: ROLE_PATTERN })

export const IdParams = Type.Object({ id: Id }, { additionalProperties: false })
