// What the resolver and the auth-server need to know their callers, and what the gateway needs
// to sign its calls, from SERVICE_KEYS and SERVICE_CLOCK_SKEW_S.

import { ConfigError, type Config } from '../config.js'
import type { SignedCallsOptions } from './require-signed-calls.js'
import type { NonceLedger } from '../signing/nonce-ledger.js'
import { createServiceSigner, type ServiceKey, type SignRequest } from '../signing/service-request.js'

export function requireServiceKeys (config: Config, role: string): [ServiceKey, ...ServiceKey[]] {
  const [first, ...rest] = config.serviceKeys
  if (first === undefined) throw new ConfigError([`SERVICE_KEYS: required by the ${role}: set at least one ID:SECRET (the same list on every gateway, resolver and auth-server)`])
  return [first, ...rest]
}

export function signedCallsOf (config: Config, role: string, nonces: NonceLedger): SignedCallsOptions {
  return { keys: requireServiceKeys(config, role), clockSkewS: config.serviceClockSkewS, nonces }
}

/** The gateway's signer: the first key of SERVICE_KEYS. */
export function serviceSignerOf (config: Config, now?: () => number): SignRequest {
  return createServiceSigner(requireServiceKeys(config, 'gateway')[0], { now })
}
