// The load scenarios: what the gateway is set up with and what wrk sends it. The baseline gets
// the very same load in each (it ignores the query and the headers, but wrk's own cost —
// a Lua script building every request — is then the same on both sides).

import path from 'node:path'
import { parseSigningKeys } from '../../src/signing/keys.js'
import { createStreamSigner } from '../../src/signing/stream-signature.js'
import { BENCH_SIGNING_KEYS } from '../servers/bench-data.js'
import { root } from './build.js'
import type { ScenarioName } from './options.js'

export type LoadScenarioName = Exclude<ScenarioName, 'micro'>

export interface LoadScenario {
  name: LoadScenarioName
  title: (context: { extraNodes: number }) => string
  /** Which of the system's databases the gateway reads: the demo data, or it plus many nodes. */
  database: 'main' | 'manyNodes'
  /** Point the gateway's RESOLVER_URL at a closed port. */
  resolverDown: boolean
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
const MOSCOW = '77.88.8.8'
/** The resolver-down scenario's client addresses, cycled. */
export const BOUNDED_ADDRESSES = 20_000

const warmProbe = (): { path: string, headers: Record<string, string> } => ({ path: WARM_PATH, headers: { 'x-forwarded-for': MOSCOW } })

const wrkScript = (name: string): string => path.join(root, 'bench', 'wrk', name)

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

export const loadScenarios: readonly LoadScenario[] = [
  {
    name: 'warm',
    title: () => 'warm: one token, one client IP (every cache hit)',
    database: 'main',
    resolverDown: false,
    path: WARM_PATH,
    headers: [`X-Forwarded-For: ${MOSCOW}`],
    probe: warmProbe
  },
  {
    name: 'cold',
    title: () => 'cold: a new token and a new client IP on every request (local resolver and auth-server)',
    database: 'main',
    resolverDown: false,
    path: '/flv?server=UIN-DEMO-1&camera=cam-1',
    headers: [],
    script: wrkScript('new-clients.lua'),
    scriptArgs: ({ firstClient, tokens }) => [String(firstClient), String(tokens), String(firstClient)],
    // The last bench token: it exists, and the load reaches it last.
    probe: ({ tokens }) => ({ path: `/flv?server=UIN-DEMO-1&camera=cam-1&access_token=bench-token-${tokens - 1}`, headers: { 'x-forwarded-for': '9.9.9.9' } })
  },
  {
    name: 'resolver-down',
    title: () => `resolver down: the warm request from ${BOUNDED_ADDRESSES.toLocaleString('en-US')} client IPs in turn, new ones in each run (local fallback)`,
    database: 'main',
    resolverDown: true,
    path: WARM_PATH,
    headers: [],
    script: wrkScript('bounded-addresses.lua'),
    // Each run starts past the addresses earlier runs used: new clients, located by the fallback.
    scriptArgs: ({ firstClient }) => [String(BOUNDED_ADDRESSES), String(firstClient)],
    probe: warmProbe
  },
  {
    name: 'hls-segments',
    title: () => `HLS segment checks: GET /verify for ${HLS_VIEWERS} viewers' warm sessions, each fetching segment after segment`,
    database: 'main',
    resolverDown: false,
    path: '/verify',
    headers: [],
    script: wrkScript('hls-segments.lua'),
    scriptArgs: () => [sharedHlsGrant(), String(HLS_VIEWERS)],
    probe: () => ({
      path: '/verify',
      headers: { 'x-original-uri': `/hls/${sharedHlsGrant()}/UIN-DEMO-1/cam-1/index.m3u8`, 'x-geogate-node': 'node-moscow-1', 'x-real-ip': '10.77.0.0' }
    }),
    expect: 'verified'
  },
  {
    name: 'many-nodes',
    title: ({ extraNodes }) => `many nodes: the warm request over a snapshot with ${extraNodes.toLocaleString('en-US')} extra nodes`,
    database: 'manyNodes',
    resolverDown: false,
    path: WARM_PATH,
    headers: [`X-Forwarded-For: ${MOSCOW}`],
    probe: warmProbe
  }
]

/**
 * Scenarios measured by turns, in one group, because a budget compares them: the
 * resolver-down p99 against the warm p99 is fair only when both come from the same minutes.
 */
const MEASURED_TOGETHER: readonly (readonly LoadScenarioName[])[] = [['warm', 'resolver-down']]

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
