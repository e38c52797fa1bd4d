// The load scenarios: what the gateway is set up with and what wrk sends it. The baseline gets
// the very same load in each (it ignores the query and the headers, but wrk's own cost —
// a Lua script building every request — is then the same on both sides).

import os from 'node:os'
import path from 'node:path'
import { demoNodeKey } from '../../src/demo/demo-data.js'
import { parseSigningKeys } from '../../src/signing/keys.js'
import { createStreamSigner } from '../../src/signing/stream-signature.js'
import { BENCH_SIGNING_KEYS } from '../servers/bench-data.js'
import { root } from './build.js'
import type { ScenarioName } from './options.js'
import { analyticsPass, playersPass, type WarmUpRequest } from './warm-up-pass.js'
import { BENCH_SERVER, STORE_TOKENS } from '../servers/bench-data.js'

export type LoadScenarioName = Exclude<ScenarioName, 'micro'>

export interface LoadScenario {
  name: LoadScenarioName
  title: (context: { extraNodes: number, tokens: number }) => string
  /** Which of the system's databases the gateway reads: the demo data, or it plus many nodes. */
  database: 'main' | 'manyNodes'
  /** Point the gateway's RESOLVER_URL at a closed port. */
  resolverDown: boolean
  /** Unsigned calls to a resolver and an auth-server that ask for no signature. */
  unsignedCalls?: boolean
  /**
   * Where the auth-server finds tokens: in the embedded store, as `npm start` runs it, or in
   * memory, standing in for MongoDB's _id index (see bench/README.md).
   */
  tokenStore: 'store' | 'memory'
  /** Requests sent once, before the timed warm-up: the mixes' "one warm-up pass". */
  warmUpPass?: () => WarmUpRequest[]
  /** Settings of the gateway beyond the bench's own (Config overrides). */
  gatewayConfig?: Record<string, unknown>
  path: string
  headers: string[]
  script?: string
  /** The script's arguments; firstClient numbers the first new client this run may use. */
  scriptArgs?: (context: { firstClient: number, tokens: number }) => string[]
  /** A request that must answer 302 before the load starts (the path defaults to path). */
  probe: (context: { tokens: number }) => { path: string, headers: Record<string, string> }
  /** What the probe must answer: a 302 to a node (default), or 204 (a /verify). */
  expect?: 'redirect' | 'verified'
}

const WARM_PATH = '/flv?server=UIN-DEMO-1&camera=cam-1&access_token=demo-viewer-token'
/** The players mix: viewers, each with a token and an address of its own, over this many cameras. */
export const PLAYERS = { viewers: 5000, cameras: 100 }
/** The analytics mix: one token and one address, this many cameras in turn. */
export const ANALYTICS_CAMERAS = 1000
const MOSCOW = '77.88.8.8'
/** Where the warm-decision-log scenario's gateway writes its log (removed when it stops). */
export const DECISION_LOG_FILE = path.join(os.tmpdir(), `geogate-bench-decisions-${process.pid}.log`)
/** The resolver-down scenario's client addresses, cycled. */
export const BOUNDED_ADDRESSES = 20_000

const warmProbe = (): { path: string, headers: Record<string, string> } => ({ path: WARM_PATH, headers: { 'x-forwarded-for': MOSCOW } })

const wrkScript = (name: string): string => path.join(root, 'bench', 'wrk', name)

/** What the node's nginx sends /verify, as the README configures it: the node's own key. */
const HLS_NODE_AUTHORIZATION = `Bearer ${demoNodeKey('node-moscow-1')}`

/** Viewers of the hls-segments scenario: one HLS session each. */
export const HLS_VIEWERS = 100
let hlsGrant: string | undefined
/**
 * The HLS grant the hls-segments viewers share, signed when first asked for (just before the
 * gateway's probe): its sessions must start before it expires, and then go on without it.
 */
function sharedHlsGrant (): string {
  hlsGrant ??= createStreamSigner({ keys: parseSigningKeys(BENCH_SIGNING_KEYS), issuer: 'gw-bench' })
    .sign({ aud: 'node-moscow-1', sub: 'UIN-DEMO-1/cam-1', fmt: 'hls', own: 'acct-demo', jti: 'bench-hls' }).token
  return hlsGrant
}

/** A new token and a new client IP on every request, tokens in memory. */
const coldScenario: LoadScenario = {
  name: 'cold',
  title: ({ tokens }) => `cold, in-memory stand-in: a new token and a new client IP on every request (local resolver; the auth-server's ${tokens.toLocaleString('en-US')} tokens in memory, as MongoDB's _id index would find them)`,
  database: 'main',
  resolverDown: false,
  tokenStore: 'memory',
  path: '/flv?server=UIN-DEMO-1&camera=cam-1',
  headers: [],
  script: wrkScript('new-clients.lua'),
  scriptArgs: ({ firstClient, tokens }) => [String(firstClient), String(tokens), String(firstClient)],
  // The last bench token: it exists, and the load reaches it last.
  probe: ({ tokens }) => ({ path: `/flv?server=UIN-DEMO-1&camera=cam-1&access_token=bench-token-${tokens - 1}`, headers: { 'x-forwarded-for': '9.9.9.9' } })
}

export const loadScenarios: readonly LoadScenario[] = [
  {
    name: 'warm',
    title: () => 'warm: one token, one client IP (every cache hit)',
    database: 'main',
    resolverDown: false,
    tokenStore: 'store',
    path: WARM_PATH,
    headers: [`X-Forwarded-For: ${MOSCOW}`],
    probe: warmProbe
  },
  coldScenario,
  {
    ...coldScenario,
    name: 'cold-unsigned',
    title: ({ tokens }) => `cold with unsigned service calls: the cold scenario (in-memory stand-in, ${tokens.toLocaleString('en-US')} tokens) against a resolver and an auth-server that check no signature, and a gateway that signs nothing: what signing costs`,
    unsignedCalls: true
  },
  {
    name: 'cold-store',
    title: () => `cold, embedded store: a new token and a new client IP on every request (local resolver; the auth-server reads the embedded store, ${STORE_TOKENS.toLocaleString('en-US')} tokens)`,
    database: 'main',
    resolverDown: false,
    tokenStore: 'store',
    path: '/flv?server=UIN-DEMO-1&camera=cam-1',
    headers: [],
    script: wrkScript('new-clients.lua'),
    scriptArgs: ({ firstClient }) => [String(firstClient), String(STORE_TOKENS), String(firstClient)],
    probe: () => ({ path: `/flv?server=UIN-DEMO-1&camera=cam-1&access_token=bench-token-${STORE_TOKENS - 1}`, headers: { 'x-forwarded-for': '9.9.9.9' } })
  },
  {
    name: 'resolver-down',
    title: () => `resolver down: the warm request from ${BOUNDED_ADDRESSES.toLocaleString('en-US')} client IPs in turn, new ones in each run (local fallback)`,
    database: 'main',
    resolverDown: true,
    tokenStore: 'store',
    path: WARM_PATH,
    headers: [],
    script: wrkScript('bounded-addresses.lua'),
    // Each run starts past the addresses earlier runs used: new clients, located by the fallback.
    scriptArgs: ({ firstClient }) => [String(BOUNDED_ADDRESSES), String(firstClient)],
    probe: warmProbe
  },
  {
    name: 'players',
    title: () => `players: ${PLAYERS.viewers.toLocaleString('en-US')} viewers, each with its own token and address, in turn, over ${PLAYERS.cameras} cameras of skewed popularity, after one warm-up pass (embedded store)`,
    database: 'main',
    resolverDown: false,
    tokenStore: 'store',
    path: '/flv',
    headers: [],
    script: wrkScript('players.lua'),
    scriptArgs: () => [String(PLAYERS.viewers), String(PLAYERS.cameras)],
    warmUpPass: () => playersPass(PLAYERS.viewers, PLAYERS.cameras),
    probe: () => ({ path: `/flv?server=${BENCH_SERVER}&camera=cam-0&access_token=bench-token-0`, headers: { 'x-forwarded-for': '77.88.8.8' } })
  },
  {
    name: 'analytics',
    title: () => `analytics: one token and one address, ${ANALYTICS_CAMERAS.toLocaleString('en-US')} cameras in turn, after one warm-up pass (embedded store)`,
    database: 'main',
    resolverDown: false,
    tokenStore: 'store',
    path: '/flv',
    headers: [],
    script: wrkScript('analytics.lua'),
    scriptArgs: () => [String(ANALYTICS_CAMERAS)],
    warmUpPass: () => analyticsPass(ANALYTICS_CAMERAS),
    probe: () => ({ path: `/flv?server=${BENCH_SERVER}&camera=cam-0&access_token=bench-token-0`, headers: { 'x-forwarded-for': '77.88.8.8' } })
  },
  {
    name: 'hls-segments',
    title: () => `HLS segment checks: GET /verify for ${HLS_VIEWERS} viewers' warm sessions, each fetching segment after segment`,
    database: 'main',
    resolverDown: false,
    tokenStore: 'memory',
    path: '/verify',
    headers: [],
    script: wrkScript('hls-segments.lua'),
    scriptArgs: () => [sharedHlsGrant(), String(HLS_VIEWERS), HLS_NODE_AUTHORIZATION],
    probe: () => ({
      path: '/verify',
      headers: { 'x-original-uri': `/hls/${sharedHlsGrant()}/UIN-DEMO-1/cam-1/index.m3u8`, 'x-geogate-node': 'node-moscow-1', 'x-real-ip': '10.77.0.0', authorization: HLS_NODE_AUTHORIZATION }
    }),
    expect: 'verified'
  },
  {
    name: 'many-nodes',
    title: ({ extraNodes }) => `many nodes: the warm request over a snapshot with ${extraNodes.toLocaleString('en-US')} extra nodes`,
    database: 'manyNodes',
    resolverDown: false,
    tokenStore: 'store',
    path: WARM_PATH,
    headers: [`X-Forwarded-For: ${MOSCOW}`],
    probe: warmProbe
  },
  {
    name: 'warm-decision-log',
    title: () => 'warm with the decision log on: a JSON line per answer to a file (DECISION_LOG_SAMPLE=1)',
    database: 'main',
    resolverDown: false,
    tokenStore: 'store',
    gatewayConfig: { decisionLog: DECISION_LOG_FILE, decisionLogSample: 1 },
    path: WARM_PATH,
    headers: [`X-Forwarded-For: ${MOSCOW}`],
    probe: warmProbe
  }
]

/**
 * Scenarios measured by turns, in one group, because a budget compares them: the
 * resolver-down p99 against the warm p99, the decision log's cost against warm throughput,
 * and signed calls' cost against cold throughput, are fair only when both come from the same
 * minutes.
 */
const MEASURED_TOGETHER: readonly (readonly LoadScenarioName[])[] = [['warm', 'resolver-down', 'warm-decision-log'], ['cold', 'cold-unsigned']]

/** The chosen scenarios in the groups they run in, in the order of their first member. */
export function scenarioGroups (chosen: readonly LoadScenario[]): LoadScenario[][] {
  const groups: LoadScenario[][] = []
  const placed = new Set<LoadScenarioName>()
  for (const scenario of chosen) {
    if (placed.has(scenario.name)) continue
    const together = MEASURED_TOGETHER.find((names) => names.includes(scenario.name)) ?? [scenario.name]
    const group = chosen.filter((s) => together.includes(s.name))
    for (const member of group) placed.add(member.name)
    groups.push(group)
  }
  return groups
}
