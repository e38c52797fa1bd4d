// The load scenarios: what the gateway is set up with and what wrk sends it. The baseline gets
// the very same load in each (it ignores the query and the headers, but wrk's own cost —
// a Lua script building every request — is then the same on both sides).

import os from 'node:os'
import path from 'node:path'
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
  /** Settings of the gateway beyond the bench's own (Config overrides). */
  gatewayConfig?: Record<string, unknown>
  path: string
  headers: string[]
  script?: string
  /** The script's arguments; firstClient numbers the first new client this run may use. */
  scriptArgs?: (context: { firstClient: number, tokens: number }) => string[]
  /** A request that must answer 302 before the load starts (the path defaults to path). */
  probe: (context: { tokens: number }) => { path: string, headers: Record<string, string> }
}

const WARM_PATH = '/flv?server=UIN-DEMO-1&camera=cam-1&access_token=demo-viewer-token'
const MOSCOW = '77.88.8.8'
/** Where the warm-decision-log scenario's gateway writes its log (removed when it stops). */
export const DECISION_LOG_FILE = path.join(os.tmpdir(), `geogate-bench-decisions-${process.pid}.log`)
/** The resolver-down scenario's client addresses, cycled. */
export const BOUNDED_ADDRESSES = 20_000

const warmProbe = (): { path: string, headers: Record<string, string> } => ({ path: WARM_PATH, headers: { 'x-forwarded-for': MOSCOW } })

const wrkScript = (name: string): string => path.join(root, 'bench', 'wrk', name)

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
    name: 'many-nodes',
    title: ({ extraNodes }) => `many nodes: the warm request over a snapshot with ${extraNodes.toLocaleString('en-US')} extra nodes`,
    database: 'manyNodes',
    resolverDown: false,
    path: WARM_PATH,
    headers: [`X-Forwarded-For: ${MOSCOW}`],
    probe: warmProbe
  },
  {
    name: 'warm-decision-log',
    title: () => 'warm with the decision log on: a JSON line per answer to a file (DECISION_LOG_SAMPLE=1)',
    database: 'main',
    resolverDown: false,
    gatewayConfig: { decisionLog: DECISION_LOG_FILE, decisionLogSample: 1 },
    path: WARM_PATH,
    headers: [`X-Forwarded-For: ${MOSCOW}`],
    probe: warmProbe
  }
]

/**
 * Scenarios measured by turns, in one group, because a budget compares them: the
 * resolver-down p99 against the warm p99, and the decision log's cost against warm
 * throughput, are fair only when both come from the same minutes.
 */
const MEASURED_TOGETHER: readonly (readonly LoadScenarioName[])[] = [['warm', 'resolver-down', 'warm-decision-log']]

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
