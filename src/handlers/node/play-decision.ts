// What a node hook decides when a client starts or stops playing, whatever the node's wire
// format: the signature must be for this node and camera, the geo rule must let in the
// client's address (viewer-geo.ts), and the owner's tariff must admit one more stream
// (src/billing/admit-session.ts). Store failures throw GW_DEPENDENCY_DOWN,
// which every hook answers as a denial: a play is never let through unchecked.

import { admitSession, type Admission, type AdmissionCollections } from '../../billing/admit-session.js'
import { releaseSession } from '../../billing/sessions.js'
import { gatewayError, isGatewayError, type GatewayError } from '../../errors.js'
import type { StreamVerifier } from '../../signing/stream-signature.js'
import type { StreamFormat } from '../../store/documents.js'
import type { SessionEvents } from '../../billing/session-events.js'
import type { HookNode } from './node-identity.js'
import { verifyPlaySignature, type StreamParams } from './play-signature.js'
import type { ViewerGeo } from './viewer-geo.js'

export interface PlayDeps {
  verifier: StreamVerifier
  billing: AdmissionCollections
  leaseMs: number
  /** The stream name a node must report for a camera, e.g. '{server}_{camera}'; undefined: not checked. */
  streamName: string | undefined
  /** The viewer's country, recorded with the session; absent: not recorded. */
  countryOf?: (address: string) => string | null
  /** The geo rules, checked against the client's address; absent: not checked. */
  viewerGeo?: ViewerGeo
  /** Told of each play's start and end (partners' webhooks); absent: nobody. */
  events?: SessionEvents
  now: () => number
}

export interface PlayInput {
  node: HookNode
  clientId: string
  clientIp: string
  /** The node's name for the stream being played (SRS `stream`, nginx-rtmp `name`). */
  streamName: string
  params: StreamParams
  /** The formats the node's play path serves (playPathFormats). */
  formats: readonly StreamFormat[]
}

export type PlayDecision =
  | { allowed: true, admission: Extract<Admission, { allowed: true }> }
  | { allowed: false, error: GatewayError }

export async function decidePlay (deps: PlayDeps, input: PlayInput): Promise<PlayDecision> {
  try {
    const claims = verifyPlaySignature(deps.verifier, { node: input.node.id, clientIp: input.clientIp, ...input.params })
    if (!input.formats.includes(claims.fmt)) {
      throw gatewayError('GW_FORBIDDEN', `stream signature rejected: it was issued for ${claims.fmt}, which this play path does not serve`)
    }
    if (deps.streamName !== undefined && input.streamName !== streamNameFor(deps.streamName, input.params)) {
      throw gatewayError('GW_FORBIDDEN', 'the stream played is not the camera the signature is for')
    }
    const geo = deps.viewerGeo?.check(claims, input.clientIp)
    const refused = geo instanceof Promise ? await geo : geo
    if (refused !== undefined) throw refused
    const admission = await storeCall(() => admitSession(deps.billing, {
      node: input.node.id,
      nodePatterns: input.node.patterns,
      clientId: input.clientId,
      claims,
      address: input.clientIp,
      ...(deps.countryOf !== undefined && { country: deps.countryOf(input.clientIp) })
    }, { nowMs: deps.now(), leaseMs: deps.leaseMs, ...(deps.events !== undefined && { events: deps.events }) }))
    if (!admission.allowed) return { allowed: false, error: gatewayError(admission.code, admission.message) }
    return { allowed: true, admission }
  } catch (err) {
    if (isGatewayError(err) && err.code !== 'GW_DEPENDENCY_DOWN') return { allowed: false, error: err }
    throw err
  }
}

export async function endPlay (deps: Pick<PlayDeps, 'billing' | 'events' | 'now'>, node: HookNode, clientId: string): Promise<void> {
  const told = deps.events === undefined ? undefined : { events: deps.events, nowMs: deps.now() }
  await storeCall(() => releaseSession(deps.billing, node.id, clientId, told))
}

function streamNameFor (template: string, params: StreamParams): string {
  return template.replaceAll('{server}', params.server ?? '').replaceAll('{camera}', params.camera ?? '')
}

async function storeCall<T> (call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (err) {
    throw gatewayError('GW_DEPENDENCY_DOWN', 'the session store is unreachable', { cause: err })
  }
}
