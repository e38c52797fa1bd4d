// The load scenarios: what the gateway is set up with and what wrk sends it. The baseline gets
// the very same load in each (it ignores the query and the headers, but wrk's own cost —
// a Lua script building every request — is then the same on both sides).

import os from 'node:os'
import path from 'node:path'
import type { Pool } from 'undici'
import { demoNodeKey } from '../../src/demo/demo-data.js'
import { root } from './build.js'
import { NODE_SEGMENTS } from './node.js'
import type { ScenarioName } from './options.js'
import { HLS_CAMERA, HLS_NODE, HLS_SERVER, mintSteeringViewers, startHlsViewers, type HlsViewer, type StartedViewers } from './sessions.js'
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
  /**
   * The script's arguments; firstClient numbers the first new client this run may use, viewers
   * are the scenario's started viewers, paceMs a player's pace (a paced run's only).
   */
  scriptArgs?: (context: ScriptContext) => string[]
  /** A request that must answer 302 before the load starts; none where starting the viewers checks the gateway. */
  probe?: (context: { tokens: number }) => { path: string, headers: Record<string, string> }
  /** Viewers started before the runs, and how (through the gateway, or through the node when there is one). */
  viewers?: (context: ViewerContext) => Promise<StartedViewers>
  /**
   * Through a streaming node configured as the README says (lib/node.ts), with docs/nodes.md's
   * cache of /verify answers when 'cached': the gateway's runs load the node's checked
   * locations, the baseline's the same locations unchecked.
   */
  throughNode?: 'plain' | 'cached'
  /**
   * The viewers' requests per second at a player's pace: after the rounds, one run of each side
   * at about that rate (each connection waits between its requests), for p99 as players see it.
   */
  pacedRate?: (viewers: number) => number
}

export interface ScriptContext {
  firstClient: number
  tokens: number
  viewers?: StartedViewers
  paceMs?: number
}

export interface ViewerContext {
  /** The scenario's. */
  name: string
  gatewayUrl: string
  /** The node's checked origin, for a scenario through a node. */
  nodeUrl?: string
  count: number
  log: (line: string) => void
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
const HLS_NODE_AUTHORIZATION = `Bearer ${demoNodeKey(HLS_NODE)}`
const HLS_STREAM = `${HLS_SERVER}/${HLS_CAMERA}`
/**
 * A player asks about once a second (its playlist every segment's duration, and the segment):
 * the node's checks of its viewers at that pace.
 */
const PLAYER_CHECKS_PER_S = 1

function viewersOf (context: ScriptContext): string {
  if (context.viewers === undefined) throw new Error('the scenario\'s viewers have not been started')
  return context.viewers.file
}

const pace = (context: ScriptContext): string[] => context.paceMs === undefined ? [] : [String(context.paceMs)]

/** A viewer's request as the node's nginx checks it: GET /verify with the node's headers. */
async function verify (pool: Pool, viewer: HlsViewer, file: string): Promise<number> {
  const { statusCode, body } = await pool.request({
    method: 'GET',
    path: '/verify',
    headers: { 'x-original-uri': `/hls/${viewer.grant}/${HLS_STREAM}/${file}`, 'x-geogate-node': HLS_NODE, 'x-real-ip': viewer.address, authorization: HLS_NODE_AUTHORIZATION }
  })
  await body.dump()
  return statusCode
}

/** A viewer's request to the node itself (nginx sends /verify its peer's address). */
async function fetchFromNode (pool: Pool, viewer: HlsViewer, file: string): Promise<number> {
  const { statusCode, body } = await pool.request({ method: 'GET', path: `/hls/${viewer.grant}/${HLS_STREAM}/${file}` })
  await body.dump()
  return statusCode
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

/** HLS viewers through a node configured as the README says, against its locations unchecked. */
const nodeScenario: LoadScenario = {
  name: 'node',
  title: () => 'a node configured as the README says: nginx with auth_request to the gateway\'s /verify, one worker, on the gateway\'s core, serving HLS to viewers with sessions of their own (each its grant; nginx sends its peer\'s address), asking in a player\'s order; baseline: the same nginx locations without auth_request',
  database: 'main',
  resolverDown: false,
  tokenStore: 'store',
  path: '/',
  headers: [],
  script: wrkScript('node-hls.lua'),
  scriptArgs: (context) => [viewersOf(context), HLS_STREAM, String(NODE_SEGMENTS), ...pace(context)],
  viewers: ({ name, nodeUrl, count, log }) => {
    if (nodeUrl === undefined) throw new Error(`${name} needs its node`)
    return startHlsViewers(name, nodeUrl, count, fetchFromNode, log)
  },
  throughNode: 'plain',
  pacedRate: (viewers) => viewers * PLAYER_CHECKS_PER_S
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
    title: () => 'HLS checks: GET /verify as a node sends it for each playlist and segment of its viewers, each viewer a warm session of its own grant and address, asking in a player\'s order',
    database: 'main',
    resolverDown: false,
    tokenStore: 'store',
    path: '/verify',
    headers: [],
    script: wrkScript('hls-segments.lua'),
    scriptArgs: (context) => [viewersOf(context), HLS_NODE, HLS_NODE_AUTHORIZATION, HLS_STREAM, ...pace(context)],
    viewers: ({ name, gatewayUrl, count, log }) => startHlsViewers(name, gatewayUrl, count, verify, log),
    pacedRate: (viewers) => viewers * PLAYER_CHECKS_PER_S
  },
  {
    name: 'steering',
    title: () => 'HLS steering manifests: each viewer, minted through the gateway\'s HLS answer (its multivariant playlist fetched once), asks for its steering manifest with the feedback hls.js sends; tokens with a lease longer than the runs (HLS_IDLE_S=600), so that no answer renews one',
    database: 'main',
    resolverDown: false,
    tokenStore: 'store',
    // A player that follows RELOAD-URI renews its token every half lease; wrk cannot tell which
    // viewer an answer is for, so the viewers keep their first tokens, within their lease.
    gatewayConfig: { hlsIdleS: 600 },
    path: '/',
    headers: [],
    script: wrkScript('steering.lua'),
    scriptArgs: (context) => [viewersOf(context), ...pace(context)],
    viewers: ({ name, gatewayUrl, count }) => mintSteeringViewers(name, gatewayUrl, count)
  },
  nodeScenario,
  {
    ...nodeScenario,
    name: 'node-cached',
    title: () => 'the node scenario with docs/nodes.md\'s cache of /verify answers on the node (a viewer\'s 204 kept 2 s under its grant, stream and address); baseline: the same nginx locations without auth_request',
    throughNode: 'cached'
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
