// Microbenchmark for the geo-group match on the request path: the demo groups plus a few
// thousand CIDR rules, matched by network, by country and by distance. Run alone:
//   node --import tsx bench/geo-match.bench.ts
// or call runGeoMatchBench(). Prints/returns ns per match; asserts nothing.

import { pathToFileURL } from 'node:url'
import { createGeoGroupIndex, matchGeoGroup, type GeoRule } from '../src/geo/match-geo-group.js'
import type { IPLocation } from '../src/geo/location.js'
import type { GeoGroupDoc } from '../src/store/documents.js'
import { demoGeoGroups } from '../src/demo/demo-data.js'
import { bestNsPerOp, round } from './lib/per-op.js'

export interface GeoMatchBenchResult {
  groups: number
  cidrRules: number
  buildMs: number
  cases: Array<{ name: string, expectRule: GeoRule, nsPerOp: number }>
  /** The three kinds of client, interleaved. */
  mixedNsPerOp: number
}

interface Probe {
  ip: string
  location: IPLocation | null
}

const moscow: IPLocation = { country_code: 'RU', region_iso: 'RU-MOW', city: 'Moscow', coordinates: [55.75, 37.62] }
const lisbon: IPLocation = { country_code: 'PT', region_iso: 'PT-11', city: 'Lisbon', coordinates: [38.72, -9.14] }

/** count IPv4 networks (/16 to /24) and a tenth as many IPv6 ones, spread over the groups. */
function groupsWithCidrs (count: number): { groups: GeoGroupDoc[], v4Networks: string[] } {
  const groups = demoGeoGroups.map((group) => ({ ...group, match: { ...group.match, cidrs: [] as string[] } }))
  const v4Networks: string[] = []
  for (let i = 0; i < count; i++) {
    const group = groups[i % groups.length] as GeoGroupDoc
    const prefix = 16 + (i % 9)
    const a = 11 + (i % 200)
    const b = (i * 7) % 256
    const c = prefix > 16 ? (i * 13) % 256 : 0
    const network = `${a}.${b}.${prefix >= 24 ? c : c & (0xff << (24 - prefix)) & 0xff}.0`
    group.match.cidrs.push(`${network}/${prefix}`)
    v4Networks.push(network)
    if (i % 10 === 0) group.match.cidrs.push(`2001:${(0x100 + i).toString(16)}::/32`)
  }
  return { groups, v4Networks }
}

export function runGeoMatchBench (options: { cidrRules?: number, iterations?: number } = {}): GeoMatchBenchResult {
  const cidrRules = options.cidrRules ?? 3000
  const iterations = options.iterations ?? 1_000_000
  const { groups, v4Networks } = groupsWithCidrs(cidrRules)
  const start = process.hrtime.bigint()
  const index = createGeoGroupIndex(groups)
  const buildMs = Number(process.hrtime.bigint() - start) / 1e6

  // 4096 probes per case (a power of two, picked with a mask).
  const byNetwork: Probe[] = Array.from({ length: 4096 }, (_, i) => {
    const network = v4Networks[i % v4Networks.length] as string
    return { ip: network.replace(/\.0$/, `.${1 + (i % 250)}`), location: moscow }
  })
  // 230–239 is in no rule: the trie is walked and misses, then the country decides.
  const byCountry: Probe[] = Array.from({ length: 4096 }, (_, i) => ({ ip: `23${i % 10}.${i % 256}.${(i >> 8) % 256}.7`, location: moscow }))
  const byDistance: Probe[] = Array.from({ length: 4096 }, (_, i) => ({ ip: `23${i % 10}.${i % 256}.${(i >> 8) % 256}.9`, location: lisbon }))
  const mixed: Probe[] = Array.from({ length: 4096 }, (_, i) => ([byNetwork, byCountry, byDistance][i % 3] as Probe[])[i] as Probe)

  const cases: Array<{ name: string, expectRule: GeoRule, probes: Probe[] }> = [
    { name: 'cidr rule', expectRule: 'cidr', probes: byNetwork },
    { name: 'country (trie miss)', expectRule: 'country', probes: byCountry },
    { name: 'nearest (trie miss, no country rule)', expectRule: 'nearest', probes: byDistance }
  ]
  const time = (probes: Probe[]): number => bestNsPerOp((i) => {
    const probe = probes[i & 4095] as Probe
    return matchGeoGroup(index, probe.ip, probe.location).group
  }, iterations)
  return {
    groups: groups.length,
    cidrRules: groups.reduce((n, group) => n + group.match.cidrs.length, 0),
    buildMs: round(buildMs),
    cases: cases.map(({ name, expectRule, probes }) => {
      const rule = matchGeoGroup(index, (probes[0] as Probe).ip, (probes[0] as Probe).location).rule
      if (rule !== expectRule) throw new Error(`geo match bench: ${name} matched by ${rule}, not ${expectRule}`)
      return { name, expectRule, nsPerOp: round(time(probes), 1) }
    }),
    mixedNsPerOp: round(time(mixed), 1)
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(JSON.stringify(runGeoMatchBench(), null, 2) + '\n')
}
