// JSON Schemas of what the admin API accepts for each collection. Ids and names are plain
// strings of a fixed shape; nothing an admin sends can become a MongoDB operator.

import { Type, type TSchema } from 'typebox'
import { streamFormats } from '../store/documents.js'

export const Id = Type.String({ pattern: '^[A-Za-z0-9._:-]{1,64}$' })
const Name = Type.String({ minLength: 1, maxLength: 200 })
const Pattern = Type.String({ pattern: '^[a-z0-9_-]{1,32}$' })
const Format = Type.Union(streamFormats.map((f) => Type.Literal(f)))
const Country = Type.String({ pattern: '^[A-Z]{2}$' })
const Region = Type.String({ pattern: '^[A-Z]{2}-[A-Z0-9]{1,3}$' })
const Cidr = Type.String({ pattern: '^[0-9A-Fa-f:.]+/[0-9]{1,3}$', maxLength: 50 })
const strict = { additionalProperties: false }

export const NodeBody = Type.Object({
  _id: Id,
  host: Type.String({ pattern: '^[A-Za-z0-9.:-]{1,253}$' }),
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  tls: Type.Boolean(),
  group: Id,
  patterns: Type.Array(Pattern, { minItems: 1, maxItems: 32, uniqueItems: true }),
  formats: Type.Array(Format, { minItems: 1, uniqueItems: true }),
  weight: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }),
  capacity: Type.Object({ sessions: Type.Integer({ minimum: 0, maximum: 10_000_000 }) }, strict),
  partners: Type.Array(Id, { maxItems: 1000, uniqueItems: true }),
  enabled: Type.Boolean(),
  draining: Type.Boolean(),
  /** The node's heartbeat key, given in plain once; only its hash is stored. */
  key: Type.Optional(Type.String({ minLength: 16, maxLength: 512 }))
}, strict)

export const GeoGroupBody = Type.Object({
  _id: Id,
  name: Name,
  coordinates: Type.Object({
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    lon: Type.Number({ minimum: -180, maximum: 180 })
  }, strict),
  match: Type.Object({
    countries: Type.Array(Country, { maxItems: 300, uniqueItems: true }),
    regions: Type.Array(Region, { maxItems: 5000, uniqueItems: true }),
    cities: Type.Array(Type.String({ minLength: 1, maxLength: 120 }), { maxItems: 10_000, uniqueItems: true }),
    cidrs: Type.Array(Cidr, { maxItems: 100_000, uniqueItems: true })
  }, strict),
  fallback: Type.Object({
    groups: Type.Array(Id, { maxItems: 100, uniqueItems: true }),
    to_closest: Type.Boolean(),
    limit: Type.Integer({ minimum: 0, maximum: 100 })
  }, strict),
  default: Type.Boolean()
}, strict)

export const PartnerBody = Type.Object({
  _id: Id,
  name: Name,
  pattern_fallbacks: Type.Record(Type.String({ pattern: '^[a-z0-9_-]{1,32}$' }), Type.Array(Pattern, { maxItems: 32 }), strict)
}, strict)

export const TariffBody = Type.Object({
  _id: Id,
  formats: Type.Array(Format, { uniqueItems: true }),
  patterns: Type.Array(Pattern, { maxItems: 64, uniqueItems: true }),
  max_concurrent_streams: Type.Union([Type.Integer({ minimum: 0, maximum: 10_000_000 }), Type.Null()])
}, strict)

export const AccountBody = Type.Object({
  _id: Id,
  tariff: Id,
  status: Type.Union([Type.Literal('active'), Type.Literal('suspended')])
}, strict)

export const IdParams = Type.Object({ id: Id }, strict)

export interface CollectionSchema {
  body: TSchema
}
