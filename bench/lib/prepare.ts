// Before a gateway is loaded: its upstreams answer from warm code, and its first answer is a
// redirect whose location came from the resolver (not from the local fallback, which a slow
// first resolver call would leave cached for 5 s, and whose expiry would show mid-run).

import { expectRedirect, probe, sampleGateway } from './probe.js'
import type { LoadScenario } from './scenarios.js'
import type { SystemInfo } from './system.js'

/** How long the gateway keeps a fallback location (RESOLVER_CACHE_TTL_MS's short sibling). */
const FALLBACK_TTL_MS = 5000

async function primeUpstreams (system: SystemInfo): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await probe(`${system.resolverUrl}/resolve?ip=77.88.8.${1 + (i % 10)}`)
  }
}

/** Returns the host the gateway redirected the probe to. */
export async function prepareGateway (scenario: LoadScenario, system: SystemInfo, gatewayUrl: string, log: (line: string) => void): Promise<string> {
  if (!scenario.resolverDown) await primeUpstreams(system)
  // Starting its viewers checks such a scenario's gateway.
  if (scenario.probe === undefined) return new URL(gatewayUrl).host
  const check = scenario.probe({ tokens: system.tokens })
  let location = await expectRedirect(`${scenario.name}: the gateway`, gatewayUrl + check.path, check.headers)
  if (!scenario.resolverDown && ((await sampleGateway(gatewayUrl)).geoSources.fallback ?? 0) > 0) {
    log(`${scenario.name}: the first resolver call timed out; waiting for the fallback location to expire`)
    await new Promise((resolve) => setTimeout(resolve, FALLBACK_TTL_MS + 500))
    location = await expectRedirect(`${scenario.name}: the gateway`, gatewayUrl + check.path, check.headers)
  }
  return new URL(location).host
}
