// Policies by name, for configuration.

import { createLeastLoadedPolicy } from './least-loaded.js'
import type { BalancingPolicy } from './policy.js'
import { createRendezvousPolicy } from './rendezvous.js'
import { createWeightedRandomPolicy, type RandomSource } from './weighted-random.js'

export const policyNames = ['rendezvous', 'weighted-random', 'least-loaded'] as const
export type PolicyName = typeof policyNames[number]

export interface PolicyOptions {
  /** rendezvous: the load bound's slack, ≥ 0 (default 0.25; Infinity: no bound). */
  epsilon?: number
  /** weighted-random: the source of randomness (default Math.random). */
  random?: RandomSource
}

/** The named policy. Throws a TypeError for an unknown name or a bad option. */
export function createPolicy (name: PolicyName, options: PolicyOptions = {}): BalancingPolicy {
  switch (name) {
    case 'rendezvous':
      return createRendezvousPolicy(options.epsilon)
    case 'weighted-random':
      return createWeightedRandomPolicy(options.random)
    case 'least-loaded':
      return createLeastLoadedPolicy()
    default:
      throw new TypeError(`unknown balancing policy ${JSON.stringify(name)}; expected one of ${policyNames.join(', ')}`)
  }
}
