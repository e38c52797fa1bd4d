// The resolver's and the auth-server's door: a call is answered only when it is signed by a
// known service (src/signing/service-request.ts), else 401 GW_SERVICE_UNAUTHORIZED. Call it
// before the app's routes are declared: each route but the open ones gets the check as its own
// first hooks, so an open route pays nothing and a guarded one no lookup of which it is.
//
// A request without a body is checked whole when it arrives. One with a body has what needs
// no body (form, caller, clock) checked when it arrives, before any of the body is read; the
// JSON parser then hashes the body as read and checks the HMAC and the nonce before it parses
// a byte of it. Hashing in the parser, not in a stream between socket and parser, spares each
// call a stream of its own. Callback hooks, not async ones: this runs on every call.

import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { gatewayError, type GatewayError } from '../errors.js'
import type { NonceLedger } from '../signing/nonce-ledger.js'
import { depthLimitedJsonParser } from './json-body.js'
import { EMPTY_BODY_DIGEST, SERVICE_SIGNATURE_HEADER, bodyDigest, createServiceVerifier, refusalMessages, type RefusalReason, type ServiceKey, type SignatureClaim } from '../signing/service-request.js'

export interface SignedCallsOptions {
  keys: ServiceKey[]
  clockSkewS: number
  nonces: NonceLedger
  now?: () => number
}

/** Paths answered without a signature: probes and scrapers cannot sign. */
const OPEN_PATHS = new Set(['/healthz', '/metrics'])

type Done = HookHandlerDoneFunction

export function requireSignedCalls (app: FastifyInstance, options: SignedCallsOptions): void {
  const verifier = createServiceVerifier({ keys: options.keys, clockSkewS: options.clockSkewS, now: options.now })
  const { nonces } = options
  // Claims of requests whose body is still to come.
  const pending = new WeakMap<FastifyRequest, SignatureClaim>()
  const parseJson = depthLimitedJsonParser(app)

  const refuse = (reason: RefusalReason): GatewayError => gatewayError('GW_SERVICE_UNAUTHORIZED', refusalMessages[reason])

  function finish (request: FastifyRequest, claim: SignatureClaim, digest: string, done: Done): void {
    if (!verifier.matches(claim, request.method, request.url, digest)) {
      done(refuse('wrong'))
      return
    }
    let first: boolean | Promise<boolean>
    try {
      first = nonces.claim(claim.id, claim.nonce, claim.acceptedUntil)
    } catch (err) {
      done(storeDown(err))
      return
    }
    if (typeof first === 'boolean') {
      done(first ? undefined : refuse('replayed'))
      return
    }
    first.then((ok) => done(ok ? undefined : refuse('replayed')), (err: unknown) => done(storeDown(err)))
  }

  function onRequest (request: FastifyRequest, _reply: FastifyReply, done: Done): void {
    const claim = verifier.read(request.headers[SERVICE_SIGNATURE_HEADER])
    if (typeof claim === 'string') {
      done(refuse(claim))
      return
    }
    // Fastify reads a body only when one is announced; without one the digest is sha256('').
    if (!announcesBody(request)) {
      finish(request, claim, EMPTY_BODY_DIGEST, done)
      return
    }
    pending.set(request, claim)
    done()
  }

  // The body arrives whole (bounded by the app's body limit); it is parsed only once the call
  // it belongs to has proved who sent it.
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const claim = pending.get(request)
    if (claim === undefined) {
      parseJson(request, body.toString(), done)
      return
    }
    pending.delete(request)
    finish(request, claim, bodyDigest(body), (err) => {
      if (err !== undefined) done(err, undefined)
      else parseJson(request, body.toString(), done)
    })
  })

  // A body no parser read (a method Fastify reads no body for) was not sent as far as the
  // signature goes: the digest of an empty body.
  function preValidation (request: FastifyRequest, _reply: FastifyReply, done: Done): void {
    const claim = pending.get(request)
    if (claim === undefined) {
      done()
      return
    }
    pending.delete(request)
    finish(request, claim, EMPTY_BODY_DIGEST, done)
  }

  app.addHook('onRoute', (route) => {
    if (OPEN_PATHS.has(route.url)) return
    route.onRequest = [onRequest, ...hooksOf(route.onRequest)]
    route.preValidation = [preValidation, ...hooksOf(route.preValidation)]
  })
}

function hooksOf<T> (hooks: T | T[] | undefined): T[] {
  if (hooks === undefined) return []
  return Array.isArray(hooks) ? hooks : [hooks]
}

function announcesBody (request: FastifyRequest): boolean {
  const length = request.headers['content-length']
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

function storeDown (err: unknown): GatewayError {
  return gatewayError('GW_DEPENDENCY_DOWN', 'the store of seen nonces did not answer', { cause: err })
}
