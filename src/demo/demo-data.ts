// The demo data `geogate dev` seeds (docs/design.md section 7). Tests build on it too.

import { hashToken } from '../auth/token-hash.js'
import type {
  AccountDoc, GeoGroupDoc, NodeDoc, PartnerDoc, ServerDoc, TariffDoc, TokenDoc
} from '../store/documents.js'
import { streamFormats } from '../store/documents.js'

export const demoTokens = {
  viewer: 'demo-viewer-token',
  limited: 'demo-limited-token',
  admin: 'demo-admin-token'
} as const

/** Each demo node's heartbeat key; the store keeps only its hash. */
export function demoNodeKey (nodeId: string): string {
  return `demo-node-key-${nodeId}`
}

export const demoGeoGroups: GeoGroupDoc[] = [
  {
    _id: 'ru-central',
    name: 'Russia, central',
    coordinates: { lat: 55.75, lon: 37.62 },
    match: { countries: ['RU'], regions: [], cities: [], cidrs: [] },
    fallback: { groups: ['eu-west'], to_closest: true, limit: 2 },
    default: false
  },
  {
    _id: 'eu-west',
    name: 'Europe, west',
    coordinates: { lat: 51.51, lon: -0.13 },
    match: { countries: ['GB', 'FR', 'DE', 'NL'], regions: [], cities: [], cidrs: [] },
    fallback: { groups: [], to_closest: true, limit: 2 },
    default: true
  },
  {
    _id: 'us-east',
    name: 'North America, east',
    coordinates: { lat: 39.04, lon: -77.49 },
    match: { countries: ['US', 'CA'], regions: [], cities: [], cidrs: [] },
    fallback: { groups: [], to_closest: true, limit: 2 },
    default: false
  }
]

/** A shared, enabled streaming node serving every format; fields given win. */
export function streamingNode (fields: Pick<NodeDoc, '_id' | 'host' | 'group' | 'weight'> & Partial<NodeDoc>): NodeDoc {
  return {
    port: 443,
    tls: true,
    patterns: ['streaming'],
    formats: [...streamFormats],
    capacity: { sessions: 1000 },
    partners: [],
    enabled: true,
    draining: false,
    last_seen: null,
    load: { sessions: 0, mbps: 0, cpu: 0 },
    ...fields
  }
}

function demoNode (id: string, group: string, weight: number): NodeDoc {
  return streamingNode({
    _id: id,
    host: `${id.replace(/^node-/, '')}.nodes.geogate.test`,
    group,
    weight,
    key_hash: hashToken(demoNodeKey(id))
  })
}

export const demoNodes: NodeDoc[] = [
  demoNode('node-moscow-1', 'ru-central', 10),
  demoNode('node-moscow-2', 'ru-central', 5),
  demoNode('node-london-1', 'eu-west', 10),
  demoNode('node-us-1', 'us-east', 10)
]

export const demoPartners: PartnerDoc[] = [
  { _id: 'demo', name: 'Demo partner', pattern_fallbacks: { archive: ['streaming'] } }
]

export const demoServers: ServerDoc[] = [
  {
    _id: 'UIN-DEMO-1',
    partner: 'demo',
    owner: 'acct-demo',
    dc: 'msk',
    online: true,
    cameras: {
      'cam-1': { online: true, streams: ['main'] },
      'cam-2': { online: true, streams: ['main'] },
      'cam-3': { online: false, streams: ['main'] }
    }
  }
]

export const demoTariffs: TariffDoc[] = [
  { _id: 'unlimited', formats: [...streamFormats], patterns: ['streaming', 'archive', 'analytics'], max_concurrent_streams: null },
  { _id: 'single-stream', formats: [...streamFormats], patterns: ['streaming'], max_concurrent_streams: 1 }
]

export const demoAccounts: AccountDoc[] = [
  { _id: 'acct-demo', tariff: 'unlimited', status: 'active' },
  { _id: 'acct-limited', tariff: 'single-stream', status: 'active' },
  { _id: 'demo-admin', tariff: 'unlimited', status: 'active' }
]

const viewDemoCameras = { object_type: 'camera', object_id: 'UIN-DEMO-1/*', rights: ['view'] }

export const demoTokenDocs: TokenDoc[] = [
  { _id: hashToken(demoTokens.viewer), owner_type: 'account', owner_id: 'acct-demo', grants: [viewDemoCameras], expires_at: null },
  { _id: hashToken(demoTokens.limited), owner_type: 'account', owner_id: 'acct-limited', grants: [viewDemoCameras], expires_at: null },
  {
    _id: hashToken(demoTokens.admin),
    owner_type: 'admin',
    owner_id: 'demo-admin',
    grants: [
      { object_type: 'gateway', object_id: '*', rights: ['admin', 'read'] },
      { object_type: 'camera', object_id: '*', rights: ['view'] }
    ],
    expires_at: null
  }
]
