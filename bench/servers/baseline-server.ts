// The baseline: a bare Fastify route that answers a fixed 302 (and one a fixed 204 for /verify), as cheap as a redirect in
// Fastify gets. Its Location is as long as a gateway's (a signed URL), so both put about the
// same bytes on the wire. Prints `BENCH_READY {url, pid}`.

import Fastify from 'fastify'
import { announceReady, closeOnShutdown, failStart, type Closer } from './lifecycle.js'

const NAME = 'bench baseline'
const closers: Closer[] = []
const shutdown = closeOnShutdown(closers, NAME)

// The shape and length of a gateway answer's Location: host, path, query and a ~330-char JWT.
const LOCATION = 'https://moscow-1.nodes.geogate.test/flv?server=UIN-DEMO-1&camera=cam-1&sig=' +
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImJlbmNoLTEifQ.' + 'x'.repeat(270) + '.' + 'y'.repeat(43)

async function main (): Promise<void> {
  const app = Fastify({ logger: false })
  app.get('/flv', (_request, reply) => {
    void reply.code(302).header('location', LOCATION).send()
  })
  // The hls-segments scenario's /verify: an empty 204, as the gateway answers a good segment.
  app.get('/verify', (_request, reply) => {
    void reply.code(204).send()
  })
  closers.push(() => app.close())
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  announceReady({ url, pid: process.pid })
}

main().catch((err: unknown) => failStart(NAME, err, shutdown))
