// What the admin API accepts for a video server and its cameras (the `servers` collection the
// stream request reads).

import { Type } from 'typebox'
import { UIN_PATTERN } from '../../http/schemas.js'
import { Id } from '../../http/schemas.js'
import { GeoRuleBody } from './schemas.js'

const strict = { additionalProperties: false }

export const CameraBody = Type.Object({
  online: Type.Boolean(),
  streams: Type.Array(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }), { maxItems: 32, uniqueItems: true }),
  /** Wins over the account's and the tariff's rule. */
  geo: Type.Optional(GeoRuleBody)
}, strict)

export const ServerBody = Type.Object({
  _id: Type.String({ pattern: UIN_PATTERN, description: 'the video server\'s UIN' }),
  partner: Id,
  owner: Id,
  dc: Type.String({ maxLength: 64 }),
  online: Type.Boolean(),
  cameras: Type.Record(Type.String({ pattern: UIN_PATTERN }), CameraBody, strict)
}, strict)
