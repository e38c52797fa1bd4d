// The shapes of geogate's MongoDB documents (DESIGN section 6).

export const streamFormats = ['flv', 'hls', 'ws-fmp4'] as const
export type StreamFormat = typeof streamFormats[number]

export interface NodeLoad {
  sessions: number
  mbps: number
  cpu: number
}

export interface NodeDoc {
  _id: string
  host: string
  port: number
  tls: boolean
  group: string
  patterns: string[]
  formats: StreamFormat[]
  weight: number
  capacity: { sessions: number }
  /** Partners this node is dedicated to; empty means shared by all. */
  partners: string[]
  enabled: boolean
  draining: boolean
  /** sha256 (hex) of the node's own heartbeat key. */
  key_hash?: string
  last_seen: Date | null
  load: NodeLoad
}

export interface GeoGroupDoc {
  _id: string
  name: string
  coordinates: { lat: number, lon: number }
  match: {
    countries: string[]
    /** ISO 3166-2 codes such as 'RU-MOW'. */
    regions: string[]
    cities: string[]
    cidrs: string[]
  }
  fallback: { groups: string[], to_closest: boolean, limit: number }
  default: boolean
}

export interface PartnerDoc {
  _id: string
  name: string
  /** pattern → the patterns to try, in order, when it has no node. */
  pattern_fallbacks: Record<string, string[]>
}

export interface CameraDoc {
  online: boolean
  streams: string[]
}

export interface ServerDoc {
  _id: string
  partner: string
  owner: string
  dc: string
  online: boolean
  cameras: Record<string, CameraDoc>
}

export interface AccountDoc {
  _id: string
  tariff: string
  status: 'active' | 'suspended'
}

export interface TariffDoc {
  _id: string
  formats: StreamFormat[]
  patterns: string[]
  /** null: no limit. */
  max_concurrent_streams: number | null
}

export interface SessionDoc {
  _id: string
  owner: string
  node: string
  client_id: string
  server: string
  camera: string
  format: StreamFormat
  started_at: Date
  expires_at: Date
}

export interface Grant {
  object_type: string
  /** An object id, or '*' for every object of the type. */
  object_id: string
  rights: string[]
}

export interface TokenDoc {
  /** sha256 (hex) of the token; the token itself is never stored. */
  _id: string
  owner_type: string
  owner_id: string
  grants: Grant[]
  expires_at: Date | null
}

export interface AuditDoc {
  at: Date
  actor: string
  action: 'create' | 'update' | 'delete'
  collection: string
  id: string
  before: unknown
  after: unknown
}

/** A nonce of a signed service call the auth-server answered; kept while its timestamp is accepted. */
export interface ServiceNonceDoc {
  /** `${service id}:${nonce}`. */
  _id: string
  expires_at: Date
}
