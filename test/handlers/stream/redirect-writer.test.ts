// The redirect writer over a real HTTP server on loopback: answers queued in one turn are all
// written at its end, each with its own location and the gateway's headers, and a client that
// left while its answer waited costs nobody else theirs.

import t, { type Test } from 'tap'
import http, { type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRedirectWriter } from '../../../src/handlers/stream/redirect-writer.js'
import { get } from '../../helpers/system.js'

async function serve (t: Test, handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

t.test('every queued redirect is written, with its own location', async (t) => {
  const write = createRedirectWriter({ allowOrigin: '*' })
  const url = await serve(t, (req, res) => { write(res, `https://node.example${req.url ?? ''}`) })
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => get(`${url}/flv?camera=cam-${i}`)))
  answers.forEach((answer, i) => {
    t.equal(answer.status, 302)
    t.equal(answer.headers.location, `https://node.example/flv?camera=cam-${i}`)
    t.equal(answer.headers['cache-control'], 'no-store')
    t.equal(answer.headers['access-control-allow-origin'], '*')
    t.equal(answer.headers['content-length'], '0')
    t.equal(answer.body, '')
  })
})

t.test('answers wait for the end of the turn, then go out together', async (t) => {
  const write = createRedirectWriter({ allowOrigin: 'https://player.example' })
  const queued: ServerResponse[] = []
  let sentWhenQueued = true
  const url = await serve(t, (_req, res) => {
    write(res, 'https://node.example/flv')
    sentWhenQueued &&= res.headersSent
    queued.push(res)
  })
  const answer = await get(`${url}/flv`)
  t.equal(answer.status, 302)
  t.equal(answer.headers['access-control-allow-origin'], 'https://player.example')
  t.equal(sentWhenQueued, false, 'nothing is written while the handler runs')
  t.equal(queued.length, 1)
})

t.test('a client gone before the end of the turn is skipped; the rest are answered', async (t) => {
  const write = createRedirectWriter({ allowOrigin: '*' })
  const url = await serve(t, (req, res) => {
    if (req.url === '/gone') {
      write(res, 'https://node.example/gone')
      res.destroy()
      return
    }
    if (req.url === '/broken') {
      // A location no header may carry: writeHead throws, and only this answer is lost.
      write(res, 'https://node.example/\nbroken')
      return
    }
    write(res, 'https://node.example/ok')
  })
  const gone = get(`${url}/gone`).then(() => 'answered', () => 'closed')
  const broken = get(`${url}/broken`).then(() => 'answered', () => 'closed')
  const ok = await get(`${url}/ok`)
  t.equal(await gone, 'closed')
  t.equal(await broken, 'closed')
  t.equal(ok.status, 302)
  t.equal(ok.headers.location, 'https://node.example/ok')
})
