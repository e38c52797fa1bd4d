// The baseline: a bare Fastify route that answers a fixed 302 (and a fixed 204 for /verify, a
// fixed steering manifest for /hls/steer/*), as cheap as an answer in Fastify gets. Its Location
// is as long as a gateway's (a signed URL), and its manifest as a gateway's, so both put about
// the same bytes on the wire. Prints `BENCH_READY {url, pid}`.

import Fastify from 'fastify'
import { announceReady, closeOnShutdown, failStart, type Closer } from './lifecycle.js'

const NAME = 'bench baseline'
const closers: Closer[] = []
const shutdown = closeOnShutdown(closers, NAME)

// The shape and length of a gateway answer's Location: host, path, query and a ~330-char JWT.
const LOCATION = 'https://moscow-1.nodes.geogate.test/flv?server=UIN-DEMO-1&camera=cam-1&sig=' +
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImJlbmNoLTEifQ.' + 'x'.repeat(270) + '.' + 'y'.repeat(43)

// The shape and length of a steering manifest (633 bytes): a steering token in RELOAD-URI (its
// header, about 440 characters of claims naming four pathways, a signature), four pathways.
const STEERING_MANIFEST = '{"VERSION":1,"TTL":10,"RELOAD-URI":"../eyJhbGciOiJIUzI1NiIsInR5cCI6Imdlb2dhdGUtc3RlZXJpbmciLCJraWQiOiJkZXYtMSJ9.' +
  'x'.repeat(380) + '.' + 'y'.repeat(43) + '/steering.json","PATHWAY-PRIORITY":["node-moscow-1","node-moscow-2","node-london-1","node-us-1"]}'
const STEERING_HEADERS = { 'cache-control': 'no-store', 'access-control-allow-origin': '*' }

async function main (): Promise<void> {
  const app = Fastify({ logger: false })
  app.get('/flv', (_request, reply) => {
    void reply.code(302).header('location', LOCATION).send()
  })
  // The hls-segments scenario's /verify: an empty 204, as the gateway answers a good segment.
  app.get('/verify', (_request, reply) => {
    void reply.code(204).send()
  })
  // The steering scenario's manifest: a fixed one as long as the gateway's, with its headers.
  app.get('/hls/steer/*', (_request, reply) => {
    void reply.code(200).headers(STEERING_HEADERS).type('application/json').send(STEERING_MANIFEST)
  })
  closers.push(() => app.close())
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  announceReady({ url, pid: process.pid })
}

main().catch((err: unknown) => failStart(NAME, err, shutdown))
