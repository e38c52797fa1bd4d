// JSON Schemas of what the admin API accepts for each collection. Ids and names are plain
// strings of a fixed shape; nothing an admin sends can become a MongoDB operator.

import { Type, type TSchema } from 'typebox'
import { nodeHostProblem } from '../../balancing/document-problems.js'
import { usableOverflowUrl } from '../../balancing/overflow.js'
import { controlUrlProblem } from '../../billing/drop-play.js'
import { cidrProblem } from '../../geo/cidr.js'
import { Id, Role, ROLE_PATTERN } from '../../http/schemas.js'
import { streamFormats } from '../../store/documents.js'
import { Webhooks } from './partner-webhooks.js'

const Name = Type.String({ minLength: 1, maxLength: 200 })
const Format = Type.Union(streamFormats.map((f) => Type.Literal(f)))
const Country = Type.String({ pattern: '^[A-Z]{2}$' })
const Region = Type.String({ pattern: '^[A-Z]{2}-[A-Z0-9]{1,3}$' })
// The networks, hosts and URLs below are checked by the very functions the router and the
// redirect read them with, so that nothing the API stores can fail a routing snapshot.
const Cidr = Type.Refine(
  Type.String({ pattern: '^[0-9A-Fa-f:.]+/[0-9]{1,3}$', maxLength: 50, description: 'an IPv4 or IPv6 network: 10.0.0.0/8, 2001:db8::/32' }),
  (cidr) => cidrProblem(cidr) === undefined,
  (cidr) => `is not an IPv4 or IPv6 network: it ${cidrProblem(cidr) ?? 'cannot be read'}`
)
const strict = { additionalProperties: false }
const OverflowUrl = Type.Refine(
  Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2048, description: 'where streams go when no node can take them' }),
  usableOverflowUrl,
  () => 'is not an http or https URL'
)
const CountryList = Type.Array(Country, { minItems: 1, maxItems: 300, uniqueItems: true })

/**
 * Where viewers may watch from: `{allow: [...]}` or `{deny: [...]}` (ISO 3166-1 alpha-2 codes,
 * upper case), on a tariff, an account or a camera; the narrowest decides. An empty list is
 * refused: to lift a rule, remove `geo` (a merge patch's null).
 */
export const GeoRuleBody = Type.Refine(
  Type.Object({
    allow: Type.Optional(CountryList),
    deny: Type.Optional(CountryList)
  }, { additionalProperties: false, description: 'viewers only from the countries of allow, or from every country but those of deny; a country not known passes deny and fails allow' }),
  (rule) => (rule.allow === undefined) !== (rule.deny === undefined),
  () => 'must hold one list, allow or deny'
)

const NodeHost = Type.Refine(
  Type.String({ pattern: '^[A-Za-z0-9.:-]{1,253}$', description: 'a DNS name, an IPv4 or an IPv6 address' }),
  (host) => nodeHostProblem(host) === undefined,
  (host) => nodeHostProblem(host) ?? 'is not a host'
)

// Checked by the function the drop call reads it with.
const ControlUrl = Type.Refine(
  Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2048, description: 'nginx-rtmp: the location with rtmp_control (http://node:8088/control); SRS: its HTTP API (http://node:1985)' }),
  (url) => controlUrlProblem(url) === undefined,
  (url) => controlUrlProblem(url) ?? 'is not a control URL'
)

export const NodeBody = Type.Object({
  _id: Id,
  host: NodeHost,
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  tls: Type.Boolean(),
  group: Id,
  patterns: Type.Array(Role, { minItems: 1, maxItems: 32, uniqueItems: true }),
  formats: Type.Array(Format, { minItems: 1, uniqueItems: true }),
  weight: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }),
  capacity: Type.Object({
    sessions: Type.Integer({ minimum: 0, maximum: 10_000_000 }),
    mbps: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10_000_000, description: 'most Mbit/s out; absent: no limit' })),
    cpu: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100, description: 'most CPU %; absent: no limit' }))
  }, strict),
  ipv6: Type.Optional(Type.Boolean({ description: 'whether the node answers on IPv6; absent: true' })),
  partners: Type.Array(Id, { maxItems: 1000, uniqueItems: true }),
  enabled: Type.Boolean(),
  draining: Type.Boolean(),
  /** The node's heartbeat key, given in plain once; only its hash is stored. */
  key: Type.Optional(Type.String({ minLength: 16, maxLength: 512 })),
  control: Type.Optional(Type.Object({
    kind: Type.Union([Type.Literal('nginx-rtmp'), Type.Literal('srs')]),
    url: ControlUrl
  }, { ...strict, description: 'where geogate drops a hook play it ends (an operator, a revoked token, a suspended account); absent: such plays go on until their viewers leave' }))
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
    cidrs: Type.Array(Cidr, { maxItems: 100_000, uniqueItems: true }),
    asns: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 4_294_967_295 }), { maxItems: 100_000, uniqueItems: true }))
  }, strict),
  fallback: Type.Object({
    groups: Type.Array(Id, { maxItems: 100, uniqueItems: true }),
    to_closest: Type.Boolean(),
    limit: Type.Integer({ minimum: 0, maximum: 100 })
  }, strict),
  default: Type.Boolean(),
  overflow_url: Type.Optional(OverflowUrl)
}, strict)

export const PartnerBody = Type.Object({
  _id: Id,
  name: Name,
  pattern_fallbacks: Type.Record(Type.String({ pattern: ROLE_PATTERN }), Type.Array(Role, { maxItems: 32 }), strict),
  overflow_url: Type.Optional(OverflowUrl),
  webhooks: Type.Optional(Webhooks)
}, strict)

export const TariffBody = Type.Object({
  _id: Id,
  formats: Type.Array(Format, { uniqueItems: true }),
  patterns: Type.Array(Role, { maxItems: 64, uniqueItems: true }),
  max_concurrent_streams: Type.Union([Type.Integer({ minimum: 0, maximum: 10_000_000 }), Type.Null()]),
  /** For players that change address mid-stream; absent: 1. */
  hls_addresses_per_grant: Type.Optional(Type.Integer({ minimum: 1, maximum: 16 })),
  geo: Type.Optional(GeoRuleBody)
}, strict)

export const AccountBody = Type.Object({
  _id: Id,
  tariff: Id,
  status: Type.Union([Type.Literal('active'), Type.Literal('suspended')]),
  geo: Type.Optional(GeoRuleBody)
}, strict)

export interface CollectionSchema {
  body: TSchema
}
