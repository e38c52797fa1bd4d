// The stream request's query, checked before anything else runs. A value that is not a plain
// string of the allowed shape never reaches logic or a MongoDB filter.

import { Type, type Static } from 'typebox'
import { ClientAddress, ROLE_PATTERN, UIN_PATTERN } from '../../http/schemas.js'
import { streamFormats } from '../../store/documents.js'

export const streamQueryProperties = {
  server: Type.String({ pattern: UIN_PATTERN, description: 'the video server\'s UIN' }),
  camera: Type.String({ pattern: UIN_PATTERN, description: 'the camera id on that server' }),
  access_token: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  pattern: Type.Optional(Type.String({ pattern: ROLE_PATTERN, description: 'node role, default streaming' })),
  redirect: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
  fromip: Type.Optional(ClientAddress),
  steering: Type.Optional(Type.Union([Type.Literal('on'), Type.Literal('off')], {
    description: 'HLS: on (default) answers with geogate\'s multivariant playlist, whose pathways are the chosen node and its alternates (Content Steering); off answers with one node\'s playlist'
  })),
  failed: Type.Optional(Type.String({ pattern: UIN_PATTERN, description: 'the node that failed this client: left out of its answer, when failed_sig proves the client was sent there' })),
  failed_sig: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$', maxLength: 4096, description: 'the signature (grant) the client held for the failed node' }))
}

export const StreamQuery = Type.Object(streamQueryProperties)
export type StreamQuery = Static<typeof StreamQuery>

export const AnyFormatQuery = Type.Object({
  ...streamQueryProperties,
  format: Type.Union(streamFormats.map((f) => Type.Literal(f)))
})
export type AnyFormatQuery = Static<typeof AnyFormatQuery>

export const StreamJsonResponse = Type.Object({
  url: Type.String(),
  node: Type.Object({ id: Type.String(), host: Type.String(), group: Type.String() }),
  expires_at: Type.String({ description: 'ISO 8601' }),
  alternates: Type.Array(Type.String())
})
export type StreamJsonResponse = Static<typeof StreamJsonResponse>
