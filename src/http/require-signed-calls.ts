// The resolver's and the auth-server's door: a call is answered only when it is signed by a
// known service (src/signing/service-request.ts), else 401 GW_SERVICE_UNAUTHORIZED. Hooks on
// the app itself, not an encapsulated plugin, so they guard every route it has.
//
// What needs no body (header, caller, clock) is checked when the request arrives, before any
// body is read; a request with a body is hashed as it streams in, and the HMAC and the nonce
// are checked once it has, before the route's schema sees it.

import { createHash } from 'node:crypto'
import { Transform } from 'node:stream'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { gatewayError } from '../errors.js'
import type { NonceLedger } from '../signing/nonce-ledger.js'
import { EMPTY_BODY_DIGEST, SERVICE_SIGNATURE_HEADER, createServiceVerifier, refusalMessages, type RefusalReason, type ServiceKey, type SignatureClaim } from '../signing/service-request.js'

export interface SignedCallsOptions {
  keys: ServiceKey[]
  clockSkewS: number
  nonces: NonceLedger
  now?: () => number
}

/** Paths answered without a signature: probes and scrapers cannot sign. */
const OPEN_PATHS = new Set(['/healthz', '/metrics'])

interface PendingCall {
  claim: SignatureClaim
  digest: string
}

export function requireSignedCalls (app: FastifyInstance, options: SignedCallsOptions): void {
  const verifier = createServiceVerifier({ keys: options.keys, clockSkewS: options.clockSkewS, now: options.now })
  const pending = new WeakMap<FastifyRequest, PendingCall>()

  const refuse = (reason: RefusalReason): Error => gatewayError('GW_SERVICE_UNAUTHORIZED', refusalMessages[reason])

  app.addHook('onRequest', async (request) => {
    if (OPEN_PATHS.has(request.routeOptions.url ?? '')) return
    const claim = verifier.read(request.headers[SERVICE_SIGNATURE_HEADER])
    if (typeof claim === 'string') throw refuse(claim)
    pending.set(request, { claim, digest: EMPTY_BODY_DIGEST })
  })

  app.addHook('preParsing', async (request, _reply, payload) => {
    const call = pending.get(request)
    // Fastify reads a body only when one is announced; without one the digest is sha256('').
    if (call === undefined || !announcesBody(request)) return payload
    const hash = createHash('sha256')
    const tee = new Transform({
      transform (chunk: Buffer, _encoding, done) {
        hash.update(chunk)
        done(null, chunk)
      },
      flush (done) {
        call.digest = hash.digest('hex')
        done()
      }
    })
    payload.on('error', (err) => tee.destroy(err))
    return payload.pipe(tee)
  })

  app.addHook('preValidation', async (request) => {
    const call = pending.get(request)
    if (call === undefined) return
    const { claim, digest } = call
    if (!verifier.matches(claim, request.method, request.url, digest)) throw refuse('wrong')
    let first: boolean
    try {
      first = await options.nonces.claim(claim.id, claim.nonce, claim.acceptedUntil)
    } catch (err) {
      throw gatewayError('GW_DEPENDENCY_DOWN', 'the store of seen nonces did not answer', { cause: err })
    }
    if (!first) throw refuse('replayed')
    request.log.debug({ caller: claim.id }, 'signed call')
  })
}

function announcesBody (request: FastifyRequest): boolean {
  const length = request.headers['content-length']
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}
