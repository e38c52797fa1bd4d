// The connection to MongoDB and typed handles on geogate's collections.

import { MongoClient, type Collection, type Db } from 'mongodb'
import type {
  AccountDoc, AuditDoc, GeoGroupDoc, NodeDoc, PartnerDoc, ServerDoc, ServiceNonceDoc, SessionDoc, SessionSlotDoc, TariffDoc, TokenDoc
} from './documents.js'

export interface Collections {
  nodes: Collection<NodeDoc>
  geoGroups: Collection<GeoGroupDoc>
  partners: Collection<PartnerDoc>
  servers: Collection<ServerDoc>
  accounts: Collection<AccountDoc>
  tariffs: Collection<TariffDoc>
  sessions: Collection<SessionDoc>
  sessionSlots: Collection<SessionSlotDoc>
  tokens: Collection<TokenDoc>
  audit: Collection<AuditDoc>
  serviceNonces: Collection<ServiceNonceDoc>
}

/**
 * The longest a query on a client's request path may take (ms) unless MONGODB_QUERY_TIMEOUT_MS
 * says otherwise: a slow MongoDB then answers 503 GW_DEPENDENCY_DOWN instead of holding the
 * client until server selection gives up.
 */
export const REQUEST_QUERY_TIMEOUT_MS = 1000

export interface Store {
  client: MongoClient
  db: Db
  collections: Collections
  close: () => Promise<void>
}

export function collectionsOf (db: Db): Collections {
  return {
    nodes: db.collection<NodeDoc>('nodes'),
    geoGroups: db.collection<GeoGroupDoc>('geo_groups'),
    partners: db.collection<PartnerDoc>('partners'),
    servers: db.collection<ServerDoc>('servers'),
    accounts: db.collection<AccountDoc>('accounts'),
    tariffs: db.collection<TariffDoc>('tariffs'),
    sessions: db.collection<SessionDoc>('sessions'),
    sessionSlots: db.collection<SessionSlotDoc>('session_slots'),
    tokens: db.collection<TokenDoc>('tokens'),
    audit: db.collection<AuditDoc>('audit'),
    serviceNonces: db.collection<ServiceNonceDoc>('service_nonces')
  }
}

export interface ConnectOptions {
  url: string
  /** Database name when the URL names none. */
  database?: string
  serverSelectionTimeoutMs?: number
  appName?: string
  /** Emit commandStarted events (tests count the queries a request makes). */
  monitorCommands?: boolean
}

export async function connectStore (options: ConnectOptions): Promise<Store> {
  const client = new MongoClient(options.url, {
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 5000,
    connectTimeoutMS: 5000,
    socketTimeoutMS: 30_000,
    appName: options.appName ?? 'geogate',
    monitorCommands: options.monitorCommands ?? false
  })
  await client.connect()
  const db = client.db(options.database)
  return { client, db, collections: collectionsOf(db), close: () => client.close() }
}

/**
 * Indexes geogate's queries use; creating them is idempotent. Correctness needs none of them
 * (every lease query filters on expires_at), only speed does.
 */
export async function ensureIndexes (collections: Collections): Promise<void> {
  await Promise.all([
    collections.sessions.createIndex({ owner: 1, expires_at: 1 }),
    collections.sessions.createIndex({ node: 1, expires_at: 1 }),
    collections.sessionSlots.createIndex({ owner: 1 }),
    collections.sessionSlots.createIndex({ holder: 1 }),
    collections.sessionSlots.createIndex({ node: 1, expires_at: 1 }),
    collections.tokens.createIndex({ owner_id: 1 }),
    collections.audit.createIndex({ at: -1 }),
    // Only a clean-up: the auth-server deletes expired nonces itself, for stores without TTL.
    collections.serviceNonces.createIndex({ expires_at: 1 }, { expireAfterSeconds: 0 })
  ])
}
