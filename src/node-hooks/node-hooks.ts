// The routes streaming nodes call (DESIGN section 4): GET /verify for nginx auth_request,
// POST /hooks/srs and POST /hooks/nginx-rtmp for plays, and lease renewal on heartbeats.

import type { FastifyInstance } from 'fastify'
import type { Db } from 'mongodb'
import { renewLeasesOnHeartbeat } from '../admin/heartbeat-routes.js'
import type { AdmissionCollections } from '../billing/admit-session.js'
import { createHlsSessions, type HlsSessions, type HlsSessionsOptions } from '../billing/hls-sessions.js'
import { renewNodeLeases, sessionCollectionsOf } from '../billing/sessions.js'
import type { Config } from '../config.js'
import type { SigningKey } from '../signing/keys.js'
import { createStreamVerifier, type StreamVerifier } from '../signing/stream-signature.js'
import type { Collections } from '../store/mongo.js'
import { registerNginxRtmpHookRoute } from './nginx-rtmp-hook-route.js'
import { registerSrsHookRoute } from './srs-hook-route.js'
import { registerVerifyRoute } from './verify-route.js'

export interface NodeHooksDeps {
  verifier: StreamVerifier
  signatureParam: string
  nodes: Collections['nodes']
  billing: AdmissionCollections
  /** How long an admitted play lasts without a heartbeat from its node. */
  leaseMs: number
  verifyRealIp: boolean
  /** See HOOK_STREAM_NAME; undefined: the stream name is not checked. */
  streamName: string | undefined
  hls: HlsSessions
  now: () => number
}

export function registerNodeHookRoutes (app: FastifyInstance, deps: NodeHooksDeps): void {
  registerVerifyRoute(app, deps)
  registerSrsHookRoute(app, deps)
  registerNginxRtmpHookRoute(app, deps)
  renewLeasesOnHeartbeat(app, (node) => renewNodeLeases(deps.billing, node, deps.now(), deps.leaseMs))
}

export interface NodeHooksSetup {
  config: Pick<Config, 'signatureParam' | 'sessionLeaseS' | 'verifyRealIp' | 'hookStreamName' |
  'signatureMaxTtlS' | 'signatureClockSkewS' | 'signatureIssuers' | 'hlsIdleS' | 'hlsSessionMaxS'>
  db: Db
  collections: Pick<Collections, 'nodes' | 'accounts' | 'tariffs'>
  keys: SigningKey[]
  now: () => number
  onHlsStore?: HlsSessionsOptions['onStore']
}

/**
 * The node hooks' dependencies from the configuration. The indexes they query by are made by
 * ensureSessionIndexes (src/billing/sessions.ts), with the store's other indexes.
 */
export function createNodeHooksDeps (setup: NodeHooksSetup): NodeHooksDeps {
  const { config } = setup
  const sessions = sessionCollectionsOf(setup.db)
  const billing = { accounts: setup.collections.accounts, tariffs: setup.collections.tariffs, ...sessions }
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
    billing,
    hls: createHlsSessions({
      billing,
      nodePatterns: async (node) => (await nodes.findOne({ _id: node }, { projection: { patterns: 1 } }))?.patterns ?? [],
      idleMs: config.hlsIdleS * 1000,
      maxMs: config.hlsSessionMaxS * 1000,
      now: setup.now,
      ...(setup.onHlsStore !== undefined && { onStore: setup.onHlsStore })
    }),
    leaseMs: setup.config.sessionLeaseS * 1000,
    verifyRealIp: setup.config.verifyRealIp,
    streamName: setup.config.hookStreamName,
    now: setup.now
  }
}
