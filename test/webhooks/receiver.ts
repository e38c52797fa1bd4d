// A partner's webhook receiver for the tests: a real HTTP server on loopback port 0 that checks
// each call's signature with the shared secret, as a partner would (the verifier geogate's own
// services use), keeps what it was sent, and answers as the test chooses: at once, with a
// failure, or not at all until the test lets it.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import { bodyDigest, createServiceVerifier, SERVICE_SIGNATURE_HEADER } from '../../src/signing/service-request.js'

export interface Received {
  method: string
  /** The path with its query, as sent. */
  url: string
  headers: IncomingMessage['headers']
  body: string
  /** Whether the signature held for the shared secret (and named the expected key id). */
  signed: boolean
  /** The signature's key id, nonce and time. */
  claim?: { id: string, nonce: string, ts: string }
  /** The body parsed, when it is JSON. */
  json?: any
}

/** How to answer a call: a status, or 'hold' (no answer until release()). */
export type Answer = number | 'hold'

export interface Receiver {
  url: string
  received: Received[]
  /** Calls not answered yet. */
  readonly held: number
  /** Answers every held call (and, from now on, calls that would be held) with this status. */
  release: (status?: number) => void
  /** Connections the server accepted. */
  readonly connections: number
}

export interface ReceiverOptions {
  secret: string
  keyId?: string
  /** The answer to the nth call (from 0); default 204. */
  answer?: (n: number, received: Received) => Answer
}

export async function startReceiver (t: Test, options: ReceiverOptions): Promise<Receiver> {
  const keyId = options.keyId ?? 'geogate'
  const verifier = createServiceVerifier({ keys: [{ id: keyId, secret: options.secret }], clockSkewS: 600 })
  const received: Received[] = []
  const holding: ServerResponse[] = []
  let released: number | undefined
  let connections = 0
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => { body += chunk })
    req.on('end', () => {
      const claim = verifier.read(req.headers[SERVICE_SIGNATURE_HEADER])
      const signed = typeof claim !== 'string' && verifier.matches(claim, req.method ?? '', req.url ?? '', bodyDigest(body))
      const call: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        signed,
        ...(typeof claim !== 'string' && { claim: { id: claim.id, nonce: claim.nonce, ts: claim.ts } })
      }
      try { call.json = JSON.parse(body) } catch {}
      const n = received.push(call) - 1
      const answer = options.answer?.(n, call) ?? 204
      if (answer !== 'hold') res.writeHead(answer).end()
      else if (released !== undefined) res.writeHead(released).end()
      else holding.push(res)
    })
  })
  server.on('connection', () => { connections++ })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    get held () { return holding.length },
    release (status = 204) {
      released = status
      for (const res of holding.splice(0)) res.writeHead(status).end()
    },
    get connections () { return connections }
  }
}

/** Waits until condition holds, checking every 10 ms; fails after timeoutMs. */
export async function waitFor (what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
