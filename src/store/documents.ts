// The shapes of geogate's MongoDB documents (docs/design.md section 6).

export const streamFormats = ['flv', 'hls', 'ws-fmp4'] as const
export type StreamFormat = typeof streamFormats[number]

export interface NodeLoad {
  sessions: number
  mbps: number
  cpu: number
}

/** What a node's heartbeat may say of itself. */
export const nodeReportedStatuses = ['up', 'draining'] as const
export type NodeReportedStatus = typeof nodeReportedStatuses[number]

export interface NodeDoc {
  _id: string
  host: string
  port: number
  tls: boolean
  group: string
  patterns: string[]
  formats: StreamFormat[]
  weight: number
  /**
   * Most sessions; optionally most Mbit/s out and most CPU % (0–100), compared with the
   * node's last heartbeat. An undeclared limit is no limit.
   */
  capacity: { sessions: number, mbps?: number, cpu?: number }
  /** Whether the node answers on IPv6; absent means it does (documents older than the field). */
  ipv6?: boolean
  /** Partners this node is dedicated to; empty means shared by all. */
  partners: string[]
  /** The admin's, as is `draining`: only admin writes change them, and they are audited. */
  enabled: boolean
  /**
   * The admin's drain: no new viewers while true, whatever the node's heartbeats say. (Before
   * reported_status existed, heartbeats wrote their status here; a node that drained itself
   * then stays drained until an admin clears it.)
   */
  draining: boolean
  /** sha256 (hex) of the node's own heartbeat key. */
  key_hash?: string
  /** Where geogate drops a play that an operator, a revocation or a suspension ends; absent: nowhere. */
  control?: NodeControl
  // Liveness, written by the node's heartbeats and never audited: when it was last heard from,
  // how loaded it said it was, and the status it reported (absent until a heartbeat names one).
  // A reported 'draining' takes the node out of new choices as the admin's drain does.
  last_seen: Date | null
  load: NodeLoad
  reported_status?: NodeReportedStatus
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
    /** Autonomous system numbers; absent in documents older than ASN rules. */
    asns?: number[]
  }
  fallback: { groups: string[], to_closest: boolean, limit: number }
  default: boolean
  /** Where a stream goes when no node in the fallback chain can take it; absent: 503. */
  overflow_url?: string
}

export interface PartnerDoc {
  _id: string
  name: string
  /** pattern → the patterns to try, in order, when it has no node. */
  pattern_fallbacks: Record<string, string[]>
  /** Where the partner's streams go when no node can take them; wins over the group's. */
  overflow_url?: string
  /** Where the starts and ends of the partner's sessions are POSTed (src/webhooks/session-webhooks.ts). */
  webhooks?: PartnerWebhook[]
}

/** A partner's webhook: the secret is kept to sign with, and never shown by the API. */
export interface PartnerWebhook {
  url: string
  /** What the signature names as the caller; absent: 'geogate'. */
  key_id?: string
  secret: string
}

/**
 * Where viewers may watch from (src/geo/geo-rules.ts): only the countries of `allow`, or every
 * country but those of `deny` (ISO 3166-1 alpha-2 codes). A rule has one of the two lists.
 */
export interface CountryRule {
  allow?: string[]
  deny?: string[]
}

export interface CameraDoc {
  online: boolean
  streams: string[]
  /** Wins over the account's and the tariff's rule; absent: theirs apply. */
  geo?: CountryRule
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
  /** Wins over the tariff's rule for every camera without a rule of its own. */
  geo?: CountryRule
}

export interface TariffDoc {
  _id: string
  formats: StreamFormat[]
  patterns: string[]
  /** null: no limit. */
  max_concurrent_streams: number | null
  /** How many viewer addresses one HLS URL may start sessions for; absent: 1. */
  hls_addresses_per_grant?: number
  /** Where its accounts' viewers may watch from, unless the account or the camera says otherwise. */
  geo?: CountryRule
}

/** A play admitted at a node (src/billing/admit-session.ts); live while expires_at is ahead. */
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
  /** The slot the session holds; null for a tariff without a limit. */
  slot: string | null
  /** The token slot it holds (owner `token/TID`), for a token with max_sessions; absent: none. */
  token_slot?: string
  /** The signature's jti: which redirect this play came from. */
  jti: string
  /** 'requests': an HLS session, kept alive by its own requests, not by node heartbeats. */
  renewed_by?: 'requests'
  // What an operator's list of live sessions shows (absent in documents written before it).
  /** The access token's id, as the grant named it (its sha256 in hex, the tokens collection's _id). */
  tid?: string
  /** The viewer's address, as the node reported it. */
  address?: string
  /** The viewer's country (ISO 3166-1 alpha-2) by the gateway's local database at the start; null: unknown. */
  country?: string | null
  /** When the play was last vouched for: its viewer's last renewed request (HLS), its node's last heartbeat. */
  last_seen?: Date
  // An ended session keeps its document, its lease set to the end, until the sweeper removes it:
  // every replica learns of the end from it (src/billing/ended-sessions.ts).
  ended_at?: Date
  /** Who ended it: the operator (owner_type:owner_id), or 'geogate' for a revocation or suspension. */
  ended_by?: string
  end_reason?: SessionEndedBy
}

/** Why a session was ended before its viewer left. */
export const sessionEndReasons = ['ended', 'revoked', 'suspended'] as const
export type SessionEndedBy = typeof sessionEndReasons[number]

/** Where a node takes orders to drop a play: its nginx-rtmp control location, or SRS's HTTP API. */
export interface NodeControl {
  kind: 'nginx-rtmp' | 'srs'
  /** nginx-rtmp: the location with `rtmp_control` (http://node:8080/control); SRS: its API's origin (http://node:1985). */
  url: string
}

/**
 * One unit of an owner's concurrent-stream limit (src/billing/sessions.ts), of an access
 * token's max_sessions, whose owner is then `token/${tid}` (src/billing/token-slots.ts), or one
 * viewer address of an HLS grant, whose owner is then `grant/${jti}` (src/billing/grant-seats.ts).
 */
export interface SessionSlotDoc {
  /** `${owner}#${k}`. */
  _id: string
  owner: string
  /** The session (sessionKey(node, client_id)) holding it; absent when released. */
  holder?: string
  node: string
  /** Free once this is not in the future. */
  expires_at: Date
  /** As on the session holding it. */
  renewed_by?: 'requests'
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
  /** The most viewers the token may feed at once (sharing), beside its owner's tariff; absent or null: no limit. */
  max_sessions?: number | null
}

export interface AuditDoc {
  at: Date
  actor: string
  /** 'end': a live session ended by an operator (its document is kept until swept). */
  action: 'create' | 'update' | 'delete' | 'end'
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
