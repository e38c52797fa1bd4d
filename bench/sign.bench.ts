// Microbenchmark for signing a stream URL (docs/design.md section 3): the JWT in `sig`, with an HS256
// secret and with an ES256 private key, both as KeyObjects made once. Run alone:
//   node --import tsx bench/sign.bench.ts
// or call runSignBench(). Prints/returns µs per signature; asserts nothing.

import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { parseSigningKeys } from '../src/signing/keys.js'
import { createStreamSigner, type StreamGrant } from '../src/signing/stream-signature.js'
import { bestNsPerOp, round } from './lib/per-op.js'

export interface SignBenchResult {
  hs256UsPerOp: number
  es256UsPerOp: number
  /** The session id each redirect also makes (crypto.randomUUID), for scale. */
  randomUuidUsPerOp: number
  tokenLength: number
}

const HS256_KEYS = 'bench-1=HS256:geogate-bench-signing-secret-0123456789abcdef'

export function runSignBench (options: { iterations?: number } = {}): SignBenchResult {
  const iterations = options.iterations ?? 200_000
  const grants: StreamGrant[] = Array.from({ length: 256 }, (_, i) => ({
    aud: `node-moscow-${1 + (i % 2)}`,
    sub: `UIN-DEMO-1/cam-${i}`,
    fmt: 'flv',
    own: 'acct-demo',
    jti: randomUUID()
  }))
  const hs256 = createStreamSigner({ keys: parseSigningKeys(HS256_KEYS), issuer: 'gw-bench' })
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const es256 = createStreamSigner({ keys: parseSigningKeys('bench-es=ES256:bench-key.pem', { readFile: () => pem }), issuer: 'gw-bench' })

  const tokenLength = hs256.sign(grants[0] as StreamGrant).token.length
  const hs = bestNsPerOp((i) => hs256.sign(grants[i & 255] as StreamGrant).token, iterations)
  const es = bestNsPerOp((i) => es256.sign(grants[i & 255] as StreamGrant).token, Math.max(1, Math.floor(iterations / 10)))
  const uuid = bestNsPerOp(() => randomUUID(), iterations)
  return {
    hs256UsPerOp: round(hs / 1000, 3),
    es256UsPerOp: round(es / 1000, 3),
    randomUuidUsPerOp: round(uuid / 1000, 3),
    tokenLength
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(JSON.stringify(runSignBench(), null, 2) + '\n')
}
