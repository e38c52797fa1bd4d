// What nodes send to the hooks and to /verify, checked before anything reads it. Unknown
// fields that SRS and nginx-rtmp add are allowed through; every field geogate reads has a
// type and a length limit.

import { Type, type Static, type TSchema } from 'typebox'
import { ClientAddress, Id, UIN_PATTERN } from '../../http/schemas.js'

/** `?node=<id>&key=<key>` on a hook URL. */
export const HookQuery = Type.Object({
  node: Id,
  key: Type.Optional(Type.String({ minLength: 16, maxLength: 512 })),
  /**
   * The formats the node's play path serves; a grant of another fmt is not admitted. Default
   * flv: SRS and nginx-rtmp plays are RTMP or HTTP-FLV.
   */
  formats: Type.Optional(Type.String({ pattern: '^(flv|hls|ws-fmp4)(,(flv|hls|ws-fmp4)){0,2}$' }))
}, { additionalProperties: false })
export type HookQuery = Static<typeof HookQuery>

const Name = Type.String({ maxLength: 255 })

export const SrsHookBody = Type.Object({
  action: Type.Union([Type.Literal('on_play'), Type.Literal('on_stop')]),
  // A string in SRS 4 and later, a number in SRS 3.
  client_id: Type.Union([
    Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$' }),
    Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
  ]),
  ip: ClientAddress,
  app: Name,
  stream: Name,
  /** The client's query string, `?server=…&camera=…&sig=…`. */
  param: Type.String({ maxLength: 8192 })
})
export type SrsHookBody = Static<typeof SrsHookBody>

export const SrsHookReply = Type.Object({
  code: Type.Integer(),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() }))
})

/** nginx-rtmp's form fields, plus the client's own query arguments as fields. */
export function nginxRtmpHookBody (signatureParam: string): TSchema {
  return Type.Object({
    call: Type.Union([Type.Literal('play'), Type.Literal('play_done')]),
    name: Name,
    addr: ClientAddress,
    clientid: Type.String({ pattern: '^[0-9]{1,20}$' }),
    app: Type.Optional(Name),
    // A field sent twice arrives as an array and fails here: no argument can shadow another.
    server: Type.Optional(Type.String({ pattern: UIN_PATTERN })),
    camera: Type.Optional(Type.String({ pattern: UIN_PATTERN })),
    [signatureParam]: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 }))
  })
}

export interface NginxRtmpHookBody {
  call: 'play' | 'play_done'
  name: string
  addr: string
  clientid: string
  server?: string
  camera?: string
  [field: string]: unknown
}

export const VerifyHeaders = Type.Object({
  'x-original-uri': Type.String({ minLength: 1, maxLength: 8192, pattern: '^/' }),
  'x-geogate-node': Id,
  'x-real-ip': Type.Optional(ClientAddress),
  /** `Bearer NODE_KEY`: the caller is the node it names. */
  authorization: Type.Optional(Type.String({ maxLength: 600 }))
})
export type VerifyHeaders = Static<typeof VerifyHeaders>
