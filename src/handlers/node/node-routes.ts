// The routes streaming nodes call (docs/design.md section 4): POST /api/v1/nodes/:id/heartbeat, GET
// /verify for nginx auth_request, POST /hooks/srs and POST /hooks/nginx-rtmp for plays. A
// heartbeat renews the leases of the plays its node admitted, when the store takes it.

import formbody from '@fastify/formbody'
import type { FastifyPluginAsync } from 'fastify'
import type { AdmissionCollections } from '../../billing/admit-session.js'
import { createHlsSessions, type HlsSessions, type HlsSessionsOptions } from '../../billing/hls-sessions.js'
import { renewNodeLeases, sessionCollectionsOf } from '../../billing/sessions.js'
import type { Config } from '../../config.js'
import type { SigningKey } from '../../signing/keys.js'
import { createStreamVerifier, type StreamVerifier } from '../../signing/stream-signature.js'
import type { RoutingSnapshotSource } from '../../routing/routing-snapshot.js'
import type { Collections } from '../../store/mongo.js'
import { registerHeartbeatRoute } from './heartbeat-route.js'
import { registerNginxRtmpHookRoute } from './nginx-rtmp-hook-route.js'
import { registerSrsHookRoute } from './srs-hook-route.js'
import { registerVerifyRoute } from './verify-route.js'
import { createVerifyCaller, type VerifyCaller } from './node-identity.js'
import type { ViewerGeo } from './viewer-geo.js'
import type { SessionEvents } from '../../billing/session-events.js'

export interface NodeRoutesDeps {
  verifier: StreamVerifier
  signatureParam: string
  nodes: Collections['nodes']
  /** This replica's routing view: heartbeats recognise nodes from it and fall back on it. */
  routing: Pick<RoutingSnapshotSource, 'current'>
  billing: AdmissionCollections
  /** How long an admitted play lasts without a heartbeat from its node. */
  leaseMs: number
  verifyRealIp: boolean
  /** See HOOK_STREAM_NAME; undefined: the stream name is not checked. */
  streamName: string | undefined
  /** NODE_TTL_S, told to each node in the answer to its heartbeat. */
  nodeTtlS: number
  hls: HlsSessions
  /** Whether a /verify caller is the node it names. */
  caller: VerifyCaller
  /** The viewer's country, recorded with each session; absent: not recorded. */
  countryOf?: (address: string) => string | null
  /** The geo rules, checked again against the viewer address a node reports; absent: not. */
  viewerGeo?: ViewerGeo
  /** Told of each play's start and end (partners' webhooks); absent: nobody. */
  events?: SessionEvents
  now: () => number
}

export const nodeRoutes: FastifyPluginAsync<NodeRoutesDeps> = async (app, deps) => {
  // nginx-rtmp posts its hooks as a form.
  await app.register(formbody)
  registerHeartbeatRoute(app, {
    nodes: deps.nodes,
    routing: deps.routing,
    now: deps.now,
    nodeTtlS: deps.nodeTtlS,
    afterBeat: (node) => renewNodeLeases(deps.billing, node, deps.now(), deps.leaseMs)
  })
  registerVerifyRoute(app, deps)
  registerSrsHookRoute(app, deps)
  registerNginxRtmpHookRoute(app, deps)
}

export interface NodeRoutesSetup {
  config: Pick<Config, 'signatureParam' | 'sessionLeaseS' | 'verifyRealIp' | 'hookStreamName' | 'nodeTtlS' |
  'signatureMaxTtlS' | 'signatureClockSkewS' | 'signatureIssuers' | 'hlsIdleS' | 'hlsSessionMaxS'>
  collections: Pick<Collections, 'nodes' | 'accounts' | 'tariffs' | 'sessions' | 'sessionSlots'>
  /**
   * The session collections HLS lease renewals are written through, behind the requests:
   * under a background deadline rather than a request's. Default: collections.
   */
  renewalCollections?: Pick<Collections, 'sessions' | 'sessionSlots'>
  keys: SigningKey[]
  routing: Pick<RoutingSnapshotSource, 'current'>
  now: () => number
  onHlsStore?: HlsSessionsOptions['onStore']
  onHlsStoreWrite?: HlsSessionsOptions['onStoreWrite']
  /** The viewer's country by a local database, recorded with each session for the sessions list. */
  countryOf?: (address: string) => string | null
  viewerGeo?: ViewerGeo
  /** Told of each session's start and of each hook play's stop. */
  events?: SessionEvents
}

/** The node routes' dependencies from the configuration. */
export function createNodeRoutesDeps (setup: NodeRoutesSetup): NodeRoutesDeps {
  const { config } = setup
  const billing = { accounts: setup.collections.accounts, tariffs: setup.collections.tariffs, ...sessionCollectionsOf(setup.collections) }
  const nodes = setup.collections.nodes
  return {
    verifier: createStreamVerifier({
      keys: setup.keys,
      now: setup.now,
      maxLifetimeSeconds: config.signatureMaxTtlS,
      maxIssuedAheadSeconds: config.signatureClockSkewS,
      issuers: config.signatureIssuers,
      // An HLS session's every segment shows the same grant.
      rememberMax: 10_000
    }),
    signatureParam: setup.config.signatureParam,
    nodes,
    routing: setup.routing,
    billing,
    hls: createHlsSessions({
      billing,
      nodePatterns: async (node) => (await nodes.findOne({ _id: node }, { projection: { patterns: 1 } }))?.patterns ?? [],
      ...(setup.renewalCollections !== undefined && { renewalCollections: sessionCollectionsOf(setup.renewalCollections) }),
      idleMs: config.hlsIdleS * 1000,
      maxMs: config.hlsSessionMaxS * 1000,
      now: setup.now,
      ...(setup.onHlsStore !== undefined && { onStore: setup.onHlsStore }),
      ...(setup.onHlsStoreWrite !== undefined && { onStoreWrite: setup.onHlsStoreWrite }),
      ...(setup.countryOf !== undefined && { countryOf: setup.countryOf }),
      ...(setup.events !== undefined && { events: setup.events })
    }),
    caller: createVerifyCaller(setup.routing),
    ...(setup.countryOf !== undefined && { countryOf: setup.countryOf }),
    leaseMs: setup.config.sessionLeaseS * 1000,
    verifyRealIp: setup.config.verifyRealIp,
    streamName: setup.config.hookStreamName,
    nodeTtlS: setup.config.nodeTtlS,
    ...(setup.viewerGeo !== undefined && { viewerGeo: setup.viewerGeo }),
    ...(setup.events !== undefined && { events: setup.events }),
    now: setup.now
  }
}
