// The answer of GET /api/v1/route, for serialization and the OpenAPI document.

import { Type } from 'typebox'

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()])

export const RouteLocation = Type.Object({
  country_code: Nullable(Type.String()),
  region_iso: Nullable(Type.String()),
  city: Nullable(Type.String()),
  coordinates: Type.Union([Type.Array(Type.Number(), { minItems: 2, maxItems: 2, description: '[lat, lon]' }), Type.Null()]),
  country_only: Type.Optional(Type.Boolean()),
  asn: Type.Optional(Type.Union([Type.Integer(), Type.Null()], { description: 'the network\'s autonomous system, when the resolver knows it' }))
})

export const RouteAccess = Type.Object({
  country: Nullable(Type.String({ description: 'the client\'s country, as the geo rules read it' })),
  account: Nullable(Type.String({ description: 'the account whose rule and tariff\'s rule were read: the one asked about, else the server\'s owner' })),
  rule: Type.Union([Type.Object({
    source: Type.Union([Type.Literal('camera'), Type.Literal('account'), Type.Literal('tariff')], { description: 'where the rule that decided was found: the camera\'s wins over the account\'s, which wins over the tariff\'s' }),
    id: Type.String({ description: 'SERVER/CAMERA, or the account\'s or the tariff\'s id' }),
    allow: Type.Optional(Type.Array(Type.String())),
    deny: Type.Optional(Type.Array(Type.String()))
  }), Type.Null()], { description: 'the geo rule that decided; null: none applies' }),
  allowed: Type.Boolean({ description: 'false: the stream request would be refused with GW_GEO_BLOCKED' })
}, { description: 'the geo rules (camera > account > tariff)' })

const Choice = Type.Object({ node: Type.String(), group: Type.String(), pattern: Type.String() })

export const RoutePathway = Type.Object({
  node: Type.String(),
  group: Type.String(),
  pattern: Type.String(),
  pathway: Type.String({ description: 'its Pathway ID in the multivariant playlist and the steering manifest' })
})

export const RouteAnswer = Type.Object({
  location: RouteLocation,
  location_source: Type.String({ description: 'cache, resolver or fallback' }),
  group_rule: Type.String({ description: 'the rule that picked the group: cidr, asn, city, region, country, large_country, nearest or default' }),
  access: RouteAccess,
  partner: Nullable(Type.String()),
  groups: Type.Array(Type.String(), { description: 'the group chain, in the order it is tried' }),
  candidates: Type.Array(Type.Object({
    node: Type.String(),
    group: Type.String(),
    pattern: Type.String(),
    eligible: Type.Boolean(),
    reason: Type.String(),
    score: Type.Union([Type.Number(), Type.Null()])
  })),
  chosen: Type.Union([Choice, Type.Null()]),
  ipv6: Type.Union([Type.Literal('ipv6_node'), Type.Literal('no_ipv6_node'), Type.Null()], {
    description: 'for a client over IPv6: whether a node serving IPv6 was found (ipv6_node) or not (no_ipv6_node); else null'
  }),
  pathways: Type.Array(RoutePathway, {
    description: 'the chosen node, then up to STEERING_PATHWAYS alternates (from the fallback groups when the group has no second node): ' +
      'the pathways an HLS viewer is offered, in order; after the first, the alternates of a JSON answer (redirect=false) of any format. Empty when no node is chosen'
  }),
  overflow: Type.Union([Type.Object({
    url: Type.String(),
    from: Type.String({ description: 'partner or group' }),
    id: Type.String(),
    redirect: Type.String({ description: 'where this stream would be sent' })
  }), Type.Null()], { description: 'when no node can take the stream: the overflow URL it goes to, if any' })
})
