// Microbenchmark for signed service calls (README, "Signed service calls"): what the gateway
// spends signing a call to the auth-server and to the resolver, and what a service spends
// checking one (the header, the body digest, the HMAC), with the key made into a KeyObject once
// and, for scale, with the secret given as a string on every call. Run alone:
//   node --import tsx bench/service-sign.bench.ts
// Prints µs per operation; asserts nothing.

import { createHmac, createSecretKey } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { EMPTY_BODY_DIGEST, SERVICE_SIGNATURE_HEADER, bodyDigest, createServiceSigner, createServiceVerifier, type SignatureClaim } from '../src/signing/service-request.js'
import { bestNsPerOp, round } from './lib/per-op.js'

export interface ServiceSignBenchResult {
  signAuthorizeUsPerOp: number
  signResolveUsPerOp: number
  checkAuthorizeUsPerOp: number
  checkResolveUsPerOp: number
  hmacKeyObjectUsPerOp: number
  hmacStringSecretUsPerOp: number
}

const key = { id: 'gw-bench', secret: 'geogate-bench-service-secret-0123456789abcdef' }

export function runServiceSignBench (options: { iterations?: number } = {}): ServiceSignBenchResult {
  const iterations = options.iterations ?? 100_000
  // One instant for both, so that the signatures made first stay fresh however long this runs.
  const at = Date.now()
  const sign = createServiceSigner(key, { now: () => at })
  const verifier = createServiceVerifier({ keys: [key], clockSkewS: 30, now: () => at })
  const bodies = Array.from({ length: 256 }, (_, i) => JSON.stringify({ token: `bench-token-${i}`, rights: 'view', object_type: 'camera', object_id: 'UIN-DEMO-1/cam-1' }))
  const paths = Array.from({ length: 256 }, (_, i) => `/resolve?ip=5.${i}.${i}.1`)
  const signedBodies = bodies.map((body) => sign('POST', '/authorize', body)[SERVICE_SIGNATURE_HEADER])
  const signedPaths = paths.map((path) => sign('GET', path)[SERVICE_SIGNATURE_HEADER])

  const signAuthorize = bestNsPerOp((i) => sign('POST', '/authorize', bodies[i & 255]), iterations)
  const signResolve = bestNsPerOp((i) => sign('GET', paths[i & 255] ?? ''), iterations)
  const checkAuthorize = bestNsPerOp((i) => {
    const claim = verifier.read(signedBodies[i & 255]) as SignatureClaim
    return verifier.matches(claim, 'POST', '/authorize', bodyDigest(bodies[i & 255]))
  }, iterations)
  const checkResolve = bestNsPerOp((i) => {
    const claim = verifier.read(signedPaths[i & 255]) as SignatureClaim
    return verifier.matches(claim, 'GET', paths[i & 255] ?? '', EMPTY_BODY_DIGEST)
  }, iterations)
  const keyObject = createSecretKey(Buffer.from(key.secret, 'utf8'))
  const message = `v1\ngw-bench\n1795600000\n0123456789abcdef0123456789abcdef\nGET\n/resolve?ip=5.1.1.1\n${EMPTY_BODY_DIGEST}`
  const withKeyObject = bestNsPerOp(() => createHmac('sha256', keyObject).update(message).digest('hex'), iterations)
  const stringSecret = bestNsPerOp(() => createHmac('sha256', key.secret).update(message).digest('hex'), iterations)
  return {
    signAuthorizeUsPerOp: round(signAuthorize / 1000, 3),
    signResolveUsPerOp: round(signResolve / 1000, 3),
    checkAuthorizeUsPerOp: round(checkAuthorize / 1000, 3),
    checkResolveUsPerOp: round(checkResolve / 1000, 3),
    hmacKeyObjectUsPerOp: round(withKeyObject / 1000, 3),
    hmacStringSecretUsPerOp: round(stringSecret / 1000, 3)
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(JSON.stringify(runServiceSignBench(), null, 2) + '\n')
}
