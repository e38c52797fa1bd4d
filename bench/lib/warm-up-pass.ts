// The realistic mixes' warm-up pass (docs/design.md section 8: "after one warm-up pass"): every viewer
// (token and address) and every camera asked for once, before the timed warm-up and the runs.

import { Pool } from 'undici'
import { BENCH_SERVER, benchToken } from '../servers/bench-data.js'

/** The address of client m, as bench/wrk/addresses.lua makes it. */
export function benchAddress (m: number): string {
  const a = ADDRESS_OCTETS[m % ADDRESS_OCTETS.length] as number
  const rest = Math.floor(m / ADDRESS_OCTETS.length)
  const d = rest % 254 + 1
  const c = Math.floor(rest / 254) % 256
  const b = Math.floor(rest / 65024) % 256
  return `${a}.${b}.${c}.${d}`
}

const ADDRESS_OCTETS = [
  1, 2, 5, 24, 31, 37, 46, 50, 62, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78,
  79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 104, 107,
  108, 109, 173, 174, 176, 178, 184, 185, 188, 193, 194, 195, 200, 201, 202, 210, 211, 212, 213,
  217, 219, 220, 221, 222
]

export interface WarmUpRequest {
  token: string
  address: string
  camera: number
}

/** One request per viewer (its camera: n mod cameras), and one per camera not yet asked for. */
export function playersPass (viewers: number, cameras: number): WarmUpRequest[] {
  return Array.from({ length: Math.max(viewers, cameras) }, (_, n) => ({ token: benchToken(n % viewers), address: benchAddress(n % viewers), camera: n % cameras }))
}

export function analyticsPass (cameras: number): WarmUpRequest[] {
  return Array.from({ length: cameras }, (_, n) => ({ token: benchToken(0), address: '77.88.8.8', camera: n }))
}

const CONCURRENCY = 8
/** How long a request of the pass is tried again for (ms). */
const PATIENCE_MS = 120_000

/**
 * Sends the requests, a few at a time; a 503 (an upstream that could not keep up with a pass of
 * new tokens: the embedded store takes milliseconds per token) is sent again after a pause.
 * Throws unless every one was redirected in the end.
 */
export async function runWarmUpPass (gatewayUrl: string, requests: readonly WarmUpRequest[]): Promise<void> {
  const pool = new Pool(gatewayUrl, { connections: CONCURRENCY })
  const failures = new Map<number, number>()
  const send = async ({ token, address, camera }: WarmUpRequest): Promise<number> => {
    const { statusCode, body } = await pool.request({
      method: 'GET',
      path: `/flv?server=${BENCH_SERVER}&camera=cam-${camera}&access_token=${token}`,
      headers: { 'x-forwarded-for': address }
    })
    await body.dump()
    return statusCode
  }
  let next = 0
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests.length) {
        const request = requests[next++] as WarmUpRequest
        const giveUpAt = Date.now() + PATIENCE_MS
        let status = await send(request)
        // A 503 is an upstream still catching up (or its breaker cooling down): wait, ask again.
        for (let attempt = 1; status === 503 && Date.now() < giveUpAt; attempt++) {
          await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 250 * attempt)))
          status = await send(request)
        }
        if (status !== 302) failures.set(status, (failures.get(status) ?? 0) + 1)
      }
    }))
  } finally {
    await pool.close()
  }
  if (failures.size > 0) throw new Error(`the warm-up pass was not all redirects: ${[...failures].map(([status, n]) => `${n} × ${status}`).join(', ')}`)
}
