// What the bench puts in the store on top of the demo data, and the names the runner and the
// wrk scripts rely on: tokens `bench-token-<n>` (so a Lua script can make a valid one from a
// counter) and many extra nodes for the large-snapshot scenario.

import { hashToken } from '../../src/auth/token-hash.js'
import type { CameraDoc, GeoGroupDoc, NodeDoc, ServerDoc, TokenDoc } from '../../src/store/documents.js'
import { demoGeoGroups, streamingNode } from '../../src/demo/demo-data.js'

export const BENCH_SIGNING_KEYS = 'bench-1=HS256:geogate-bench-signing-secret-0123456789abcdef'
/** The key the bench's gateway signs its calls to the resolver and the auth-server with. */
export const BENCH_SERVICE_KEYS = 'gw-bench:geogate-bench-service-secret-0123456789abcdef'
export const BENCH_TOKEN_PREFIX = 'bench-token-'
/** The database with the demo data. */
export const MAIN_DATABASE = 'geogate_bench'
/** The demo data plus many extra nodes, for the large-snapshot scenario, in a store of its own. */
export const MANY_NODES_DATABASE = 'geogate_bench_nodes'

export function benchToken (n: number): string {
  return `${BENCH_TOKEN_PREFIX}${n}`
}

/** The video server of the realistic mixes, with BENCH_CAMERAS cameras `cam-<n>`, owned by acct-demo. */
export const BENCH_SERVER = 'UIN-BENCH'
export const BENCH_CAMERAS = 1000
/** Bench tokens kept in the embedded store itself, for the mixes and the cold scenario on it. */
export const STORE_TOKENS = 10_000

const viewDemoCameras = { object_type: 'camera', object_id: 'UIN-DEMO-1/*', rights: ['view'] }
const viewBenchCameras = { object_type: 'camera', object_id: `${BENCH_SERVER}/*`, rights: ['view'] }

/** Tokens like demo-viewer-token: view on every camera of UIN-DEMO-1 and UIN-BENCH, owner acct-demo. */
export function benchTokenDocs (from: number, to: number): TokenDoc[] {
  const docs: TokenDoc[] = []
  for (let n = from; n < to; n++) {
    docs.push({ _id: hashToken(benchToken(n)), owner_type: 'account', owner_id: 'acct-demo', grants: [viewDemoCameras, viewBenchCameras], expires_at: null })
  }
  return docs
}

export function benchServerDoc (): ServerDoc {
  const cameras: Record<string, CameraDoc> = {}
  for (let n = 0; n < BENCH_CAMERAS; n++) cameras[`cam-${n}`] = { online: true, streams: ['main'] }
  return { _id: BENCH_SERVER, partner: 'demo', owner: 'acct-demo', dc: 'msk', online: true, cameras }
}

/** Extra nodes spread over the demo groups, shared, serving every format, lightly loaded. */
export function benchNodeDocs (count: number, lastSeen: Date): NodeDoc[] {
  const groups: GeoGroupDoc[] = demoGeoGroups
  return Array.from({ length: count }, (_, i): NodeDoc => {
    const group = (groups[i % groups.length] as GeoGroupDoc)._id
    const weight = 1 + (i % 10)
    return streamingNode({
      _id: `bench-node-${i}`,
      host: `n${i}.${group}.nodes.bench.test`,
      group,
      weight,
      capacity: { sessions: 10_000 },
      key_hash: hashToken(`bench-node-key-${i}`),
      last_seen: lastSeen,
      load: { sessions: 10 * weight, mbps: 0, cpu: 0 }
    })
  })
}
