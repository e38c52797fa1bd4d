// The signature a node was shown, checked for that node and that camera. Shared by GET /verify
// and the play hooks: a missing or bad signature is a 401, a good one meant for another node,
// camera, format or client is a 403.

import { gatewayError, type GatewayError } from '../../errors.js'
import { SignatureError, type StreamClaims, type StreamVerifier } from '../../signing/stream-signature.js'
import { streamFormats, type StreamFormat } from '../../store/documents.js'

const UIN = /^[A-Za-z0-9._:-]{1,64}$/
const MAX_SIGNATURE_LENGTH = 4096

export interface StreamParams {
  /** Every value of the signature parameter the client sent. */
  signatures: readonly string[]
  /** The one well-formed value sent, else undefined. */
  server: string | undefined
  camera: string | undefined
}

export interface PlayTarget extends StreamParams {
  /** The node the request reached: the signature's audience. */
  node: string
  /** The client's address, when known; checked only against a signature that carries cip. */
  clientIp: string | undefined
}

/** What a client's query string (`?server=…&camera=…&sig=…`) says about the stream. */
export function readStreamParams (params: URLSearchParams, signatureParam: string): StreamParams {
  return {
    signatures: params.getAll(signatureParam),
    server: single(params, 'server'),
    camera: single(params, 'camera')
  }
}

function single (params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name)
  const value = values[0]
  return values.length === 1 && value !== undefined && UIN.test(value) ? value : undefined
}

/** The formats a play path serves, as a hook URL declares them (`&formats=flv,ws-fmp4`); default flv. */
export function playPathFormats (declared: string | undefined): readonly StreamFormat[] {
  if (declared === undefined) return ['flv']
  return declared.split(',').filter((f): f is StreamFormat => (streamFormats as readonly string[]).includes(f))
}

/**
 * The verified claims; throws GW_TOKEN_MISSING, GW_TOKEN_INVALID (401) or GW_FORBIDDEN (403).
 * allowExpired: the claims of a grant past its exp too, for a caller that decides on it.
 */
export function verifyPlaySignature (verifier: StreamVerifier, target: PlayTarget, options: { allowExpired?: boolean } = {}): StreamClaims {
  const [token, ...more] = target.signatures
  if (token === undefined) throw gatewayError('GW_TOKEN_MISSING', 'the request carries no stream signature')
  if (more.length > 0 || token.length > MAX_SIGNATURE_LENGTH) throw gatewayError('GW_TOKEN_INVALID', 'stream signature rejected: malformed')
  let claims: StreamClaims
  try {
    claims = verifier.verify(token, {
      audience: target.node,
      ...(target.clientIp !== undefined && { clientIp: target.clientIp }),
      ...(options.allowExpired === true && { allowExpired: true })
    })
  } catch (err) {
    throw signatureRejection(err)
  }
  // Checked here rather than by verify(): an absent camera must fail, not skip the check.
  if (target.server === undefined || target.camera === undefined || claims.sub !== `${target.server}/${target.camera}`) {
    throw gatewayError('GW_FORBIDDEN', 'stream signature rejected: it was issued for another camera')
  }
  return claims
}

export function signatureRejection (err: unknown): GatewayError {
  if (!(err instanceof SignatureError)) throw err
  switch (err.reason) {
    case 'wrong_audience':
      return gatewayError('GW_FORBIDDEN', 'stream signature rejected: it was issued for another node')
    case 'wrong_subject':
      return gatewayError('GW_FORBIDDEN', 'stream signature rejected: it was issued for another camera')
    case 'wrong_client_ip':
      return gatewayError('GW_FORBIDDEN', 'stream signature rejected: it was issued for another client address')
    default:
      return gatewayError('GW_TOKEN_INVALID', err.message)
  }
}
