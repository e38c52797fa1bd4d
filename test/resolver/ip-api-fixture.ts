// A local HTTP server that speaks ip-api.com's JSON (GET /json/{ip}?fields=…), and can be made
// slow, failing or rate-limited, for the ip-api provider's tests.

import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'

export type IpApiMode = 'normal' | 'slow' | 'error' | 'rate-limited' | 'garbage'

export interface IpApiFixture {
  url: string
  mode: IpApiMode
  /** Sent as X-Rl (calls left) on normal answers; undefined: the header is left out. */
  remaining: number | undefined
  /** Sent as X-Ttl (seconds until the window resets). */
  ttlS: number
  /** How long (ms) a slow answer takes. */
  slowMs: number
  /** The IPs asked, in order. */
  readonly asked: string[]
}

/** What the fixture knows: ip-api answers by IP; any other public IP is a 'fail' answer. */
export const ipApiData: Record<string, object> = {
  '2.72.0.1': { status: 'success', countryCode: 'KZ', region: '75', city: 'Almaty', lat: 43.25, lon: 76.9167, as: 'AS9198 JSC Kazakhtelecom', org: 'Kazakhtelecom' },
  '8.8.8.8': { status: 'success', countryCode: 'US', region: 'VA', city: 'Ashburn', lat: 39.03, lon: -77.5, as: 'AS15169 Google LLC', org: 'Google Public DNS' },
  '9.9.9.9': { status: 'success', countryCode: 'CH', region: '', city: '', lat: 47.1449, lon: 8.1551, as: 'AS19281 Quad9', org: '' },
  '10.1.2.3': { status: 'fail', message: 'private range' }
}

export async function startIpApiFixture (t: Test): Promise<IpApiFixture> {
  const fixture: IpApiFixture = { url: '', mode: 'normal', remaining: undefined, ttlS: 60, slowMs: 500, asked: [] }
  const timers = new Set<NodeJS.Timeout>()
  function answer (res: ServerResponse, ip: string): void {
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'x-ttl': String(fixture.ttlS) }
    if (fixture.mode === 'rate-limited') {
      res.writeHead(429, { ...headers, 'x-rl': '0' }).end()
      return
    }
    if (fixture.mode === 'error') {
      res.writeHead(500, headers).end('{"error":"internal"}')
      return
    }
    if (fixture.mode === 'garbage') {
      res.writeHead(200, headers).end('<html>not json</html>')
      return
    }
    if (fixture.remaining !== undefined) headers['x-rl'] = String(fixture.remaining)
    res.writeHead(200, headers).end(JSON.stringify(ipApiData[ip] ?? { status: 'fail', message: 'reserved range' }))
  }
  const server = createServer((req, res) => {
    const match = /^\/json\/([^?]+)\?fields=/.exec(req.url ?? '')
    if (match === null) {
      res.writeHead(404).end()
      return
    }
    const ip = decodeURIComponent(match[1] as string)
    fixture.asked.push(ip)
    if (fixture.mode === 'slow') {
      const timer = setTimeout(() => { timers.delete(timer); answer(res, ip) }, fixture.slowMs)
      timers.add(timer)
      return
    }
    answer(res, ip)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => {
    for (const timer of timers) clearTimeout(timer)
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  fixture.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/json`
  return fixture
}
