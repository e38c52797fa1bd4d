// The stream request, step by step (docs/design.md section 2), without HTTP: the route adapter feeds it
// the validated query and the client's address, and renders what it returns.

import type { Selection } from '../../balancing/select-node.js'
import type { Snapshot } from '../../balancing/snapshot.js'
import { selectNode } from '../../balancing/select-node.js'
import type { BalancingPolicy } from '../../balancing/policy.js'
import type { AuthClient, Principal } from '../../auth/auth-client.js'
import { cachedValue } from '../../cache/cached-lookup.js'
import type { BillingChecker } from '../../billing/check-limits.js'
import type { AccountLimits, LimitRequest } from '../../billing/decide-limits.js'
import type { GrantRequest } from '../../auth/grants.js'
import type { ServerDirectory } from '../../directory/server-directory.js'
import { gatewayError } from '../../errors.js'
import { ipVersion, normalizeIp } from '../../geo/cidr.js'
import type { GeoAnswer, GeoLocator } from '../../geo/resolver-client.js'
import { matchGeoGroup, type GeoRule } from '../../geo/match-geo-group.js'
import { countryAllowed, decidingGeoRule, geoBlocked, narrowestGeoRule } from '../../geo/geo-rules.js'
import type { IPLocation, LocationSource } from '../../geo/location.js'
import type { RedirectClaims, RedirectGrants } from '../../signing/redirect-grants.js'
import { overflowTarget, overflowUrl } from '../../balancing/overflow.js'
import type { MemoizedSelection, RedirectMemo, ViewerRedirect } from './redirect-memo.js'
import type { NodeDoc, ServerDoc, StreamFormat } from '../../store/documents.js'
import type { RoutingSnapshotSource } from '../../routing/routing-snapshot.js'
import { nodeStreamUrl, nodeStreamUrlBeforeGrant } from './node-url.js'
import { rankNodes } from '../../balancing/rank-nodes.js'
import { silentAt } from '../../balancing/eligibility.js'
import { newSessionId, type StreamVerifier } from '../../signing/stream-signature.js'
import { multivariantPath } from './steering-paths.js'
import type { SteeringDeps } from './steering-routes.js'

export interface StreamRequestDeps {
  geo: Pick<GeoLocator, 'locate' | 'locateNow'>
  routing: Pick<RoutingSnapshotSource, 'current'>
  policy: BalancingPolicy
  auth: Pick<AuthClient, 'authorize' | 'peek'>
  billing: BillingChecker
  servers: ServerDirectory
  grants: RedirectGrants
  /** Remembers warm answers for the rest of the second; absent, every request selects. */
  memo?: RedirectMemo
  signatureParam: string
  nodeTtlMs: number
  bindClientIp: boolean
  now: () => number
  onGeoSource?: (source: LocationSource) => void
  /** Told of each stream sent to an overflow URL, and whose URL it was. */
  onOverflow?: (from: 'partner' | 'group') => void
  /**
   * HLS answers lead to geogate's own multivariant playlist, whose pathways are the chosen node
   * and its alternates (Content Steering, steering-routes.ts); absent: a 302 to one node.
   */
  steering?: SteeringDeps
  /** Alternates beside the chosen node: an HLS answer's other pathways, a JSON answer's alternates. Default 2. */
  pathways?: number
  /** Checks the grant a client shows for the node it says failed it (failed_sig); absent: failed= is ignored. */
  failedGrants?: StreamVerifier
  /** How old a grant shown for a failed node may be (ms): a play lasts; default 12 h. */
  failedGrantMaxAgeMs?: number
}

export interface StreamRequestInput {
  format: StreamFormat
  server: string
  camera: string
  token: string | undefined
  pattern: string
  clientIp: string
  /** Admin debugging: act as if the client had this address. */
  fromIp: string | undefined
  /** Also sign URLs for the next-best nodes (JSON mode). */
  withAlternates?: boolean
  /** 'off': an HLS answer is a 302 to one node's playlist, for players without multivariant support. */
  steering?: 'on' | 'off'
  /** The node the client says failed it, and the grant it held for it, which proves it. */
  failed?: string
  failedSig?: string
}

export interface StreamAnswer {
  url: string
  node: { id: string, host: string, group: string }
  expiresAt: number
  alternates: string[]
  owner: string
  /** The signed grant's id (jti). */
  grantId: string
  group: string
  /** Sent to an overflow URL, unsigned: no node could take the stream. */
  overflow?: boolean
  /** For the decision log and metrics: how the client was placed, and the server's partner. */
  rule: GeoRule
  country: string | null
  partner: string
}

const VIEW = 'view'
const CAMERA = 'camera'
const ADMIN_RIGHT = { rights: 'admin', object_type: 'gateway', object_id: '*' }

/**
 * The answer to a stream request. A warm request (every step answered from its cache) is
 * answered synchronously, with no promise; anything else returns a promise. Either way a
 * failure is a thrown or rejected GatewayError.
 */
export function handleStreamRequest (deps: StreamRequestDeps, input: StreamRequestInput): StreamAnswer | Promise<StreamAnswer> {
  const token = input.token
  if (token === undefined || token === '') throw gatewayError('GW_TOKEN_MISSING', 'send access_token or an Authorization: Bearer header')
  if (input.fromIp !== undefined) return answerFromIp(deps, input, token, input.fromIp)
  return answerFor(deps, input, token, input.clientIp)
}

/** Admin debugging: answer as if the client had the address fromip, for admins only. */
async function answerFromIp (deps: StreamRequestDeps, input: StreamRequestInput, token: string, fromIp: string): Promise<StreamAnswer> {
  if (ipVersion(fromIp) === 0) throw gatewayError('GW_BAD_REQUEST', 'fromip is not an IP address')
  await deps.auth.authorize(token, ADMIN_RIGHT)
  return await answerFor(deps, input, token, normalizeIp(fromIp))
}

/** What the steps before selection found out about a request. */
interface RequestFacts {
  ip: string
  location: IPLocation | null
  principal: Principal
  server: ServerDoc
  /** The account and tariff the stream is billed to. */
  limits: AccountLimits
}

function answerFor (deps: StreamRequestDeps, input: StreamRequestInput, token: string, ip: string): StreamAnswer | Promise<StreamAnswer> {
  const subject = `${input.server}/${input.camera}`
  const facts = gatherFacts(deps, {
    token,
    ip,
    server: input.server,
    camera: input.camera,
    right: { rights: VIEW, object_type: CAMERA, object_id: subject },
    limits: { format: input.format, pattern: input.pattern }
  })
  return facts instanceof Promise ? facts.then((found) => route(deps, input, subject, found)) : route(deps, input, subject, facts)
}

/** What the steps before selection ask. */
interface FactsQuestion {
  token: string
  ip: string
  server: string
  camera: string
  right: GrantRequest
  limits: LimitRequest
}

/**
 * The facts of a request, from each source's cache when every one has its answer — then at
 * once, with no promise — else loaded, each by one shared, cached upstream call. A failure a
 * cache remembers (a denial, an offline camera) is thrown as it would be when loaded.
 */
function gatherFacts (deps: StreamRequestDeps, question: FactsQuestion): RequestFacts | Promise<RequestFacts> {
  const geo = cachedValue(deps.geo.locateNow(question.ip))
  const principal = cachedValue(deps.auth.peek(question.token, question.right))
  if (geo !== undefined && principal !== undefined) {
    const server = cachedValue(deps.servers.peekOnlineCamera(question.server, question.camera))
    const limits = server === undefined ? undefined : cachedValue(deps.billing.peekLimits(principal.owner_id, question.limits))
    // A token with a sharing limit is refused early when its count, as cached, is at it.
    const shared = principal.max_sessions
    if (server !== undefined && limits !== undefined &&
      (shared === undefined || cachedValue(deps.billing.peekTokenSessions(principal.token_id, shared)) !== undefined)) {
      deps.onGeoSource?.(geo.source)
      return { ip: question.ip, location: geo.location, principal, server, limits }
    }
  }
  return loadFacts(deps, question, geo)
}

async function loadFacts (deps: StreamRequestDeps, question: FactsQuestion, geoHit: GeoAnswer | undefined): Promise<RequestFacts> {
  const { token, ip, right, limits } = question
  // The location is looked up while auth runs; a lookup never fails (it falls back locally).
  const located = geoHit ?? deps.geo.locate(ip)
  const principal = await deps.auth.authorize(token, right)
  const server = await deps.servers.requireOnlineCamera(question.server, question.camera)
  const accountLimits = await deps.billing.checkLimits(principal.owner_id, limits)
  if (principal.max_sessions !== undefined) await deps.billing.checkTokenSessions(principal.token_id, principal.max_sessions)
  const { location, source } = geoHit ?? await located
  deps.onGeoSource?.(source)
  return { ip, location, principal, server, limits: accountLimits }
}

/** Selection and signing: synchronous, over the current node snapshot. */
function route (deps: StreamRequestDeps, input: StreamRequestInput, subject: string, facts: RequestFacts): StreamAnswer {
  const { ip, location, principal, server, limits } = facts
  const country = location?.country_code ?? null
  // The camera's own rule, else the account's, else its tariff's: with none, three reads.
  const camera = server.cameras[input.camera]
  const geoRule = narrowestGeoRule(camera, limits.account, limits.tariff)
  if (geoRule !== undefined && !countryAllowed(geoRule, country)) {
    throw geoBlocked(decidingGeoRule(camera, subject, limits.account, limits.tariff), country)
  }
  const routing = deps.routing.current()
  if (routing === undefined) throw gatewayError('GW_DEPENDENCY_DOWN', 'the node list has not loaded yet')
  const { group, rule } = matchGeoGroup(routing.geo, ip, location)
  // The address is normalized: only a client that came over IPv6 has a colon in it.
  const ipv6 = ip.indexOf(':') >= 0
  // Ids and patterns hold no newline (schema-checked), so the key is unambiguous. Nothing of
  // the viewer is in it: the node is the same for every viewer of the stream; the grant is theirs.
  const memoKey = `${subject}\n${group}\n${input.pattern}\n${input.format}\n${server.partner}\n${ipv6 ? 6 : 4}`
  // An HLS grant is one viewer's session (counted per sid and address), and a client that names
  // the node that failed it gets an answer of its own: neither is shared.
  const failed = provenFailure(deps, input, subject, principal.owner_id)
  const memo = input.format === 'hls' || input.withAlternates === true || failed !== undefined ? undefined : deps.memo
  if (memo !== undefined) {
    const hit = memo.get(routing, memoKey, routing.livenessFrozenAt ?? deps.now())
    if (hit !== undefined) {
      const viewer = viewerRedirect(deps, memo, input, subject, principal, ip, hit)
      return { url: viewer.url, node: hit.answerNode, expiresAt: viewer.expiresAt, alternates: [], owner: principal.owner_id, grantId: viewer.jti, group, rule, country, partner: server.partner }
    }
  }
  const selectionRequest = { partner: server.partner, group, pattern: input.pattern, format: input.format, key: subject, ipv6 }
  const selectionOptions = { policy: deps.policy, nowMs: routing.livenessFrozenAt ?? deps.now(), nodeTtlMs: deps.nodeTtlMs }
  // The node a client proved failed it is out of its own answer only (nobody else's).
  const selection: Selection | null = failed === undefined
    ? selectNode(routing.nodes, selectionRequest, selectionOptions)
    : rankNodes(routing.nodes, selectionRequest, selectionOptions, { limit: 1, exclude: new Set([failed]) })[0] ?? null
  if (selection === null) return overflowAnswer(deps, input, routing.nodes, { partner: server.partner, group, rule, country }, principal.owner_id)

  // The grants of one HLS answer share a session: a viewer moving between them is one viewer.
  const sid = input.format === 'hls' ? newSessionId() : undefined
  // Where the memo is used, it keeps this viewer's grant with the choice: the grants' own
  // per-second sharing would only be looked up in vain.
  const grantFor = memo !== undefined ? deps.grants.fresh : deps.grants.grant
  const signedUrl = (node: NodeDoc): { url: string, expiresAt: number, jti: string } => {
    const grant = grantFor(grantClaims(deps, input, subject, principal, ip, node._id, sid))
    return { url: nodeStreamUrl(node, input.format, input.server, input.camera, deps.signatureParam, grant.token), expiresAt: grant.expiresAt, jti: grant.jti }
  }
  const node = { id: selection.node._id, host: selection.node.host, group: selection.group }
  const steered = input.format === 'hls' && input.withAlternates !== true && input.steering !== 'off' && deps.steering !== undefined
  // The next-best nodes, from the rest of the group chain when the group has no second one.
  const others = steered || input.withAlternates === true
    ? rankNodes(routing.nodes, selectionRequest, selectionOptions, {
      limit: deps.pathways ?? DEFAULT_ALTERNATES,
      exclude: new Set(failed === undefined ? [selection.node._id] : [selection.node._id, failed])
    }).map((ranked) => ranked.node)
    : []
  if (steered && sid !== undefined && deps.steering !== undefined) {
    // A 302 to geogate's multivariant playlist, which signs a grant per pathway when asked.
    const token = deps.steering.tokens.issue({
      sid,
      own: principal.owner_id,
      sub: subject,
      pw: [selection.node._id, ...others.map((other) => other._id)],
      ...(principal.token_id !== undefined && { tid: principal.token_id }),
      ...(deps.bindClientIp && { cip: ip })
    })
    return {
      url: multivariantPath(input.server, input.camera, token),
      node,
      expiresAt: deps.now() + deps.steering.tokens.startS * 1000,
      alternates: [],
      owner: principal.owner_id,
      grantId: sid,
      group,
      rule,
      country,
      partner: server.partner
    }
  }
  const chosen = signedUrl(selection.node)
  if (memo !== undefined && input.format !== 'hls') {
    const chosenNode = routing.nodes.nodesById.get(selection.node._id)
    const silent = chosenNode === undefined ? -Infinity : silentAt(chosenNode, deps.nodeTtlMs)
    const urlBeforeGrant = nodeStreamUrlBeforeGrant(selection.node, input.format, input.server, input.camera, deps.signatureParam)
    const viewer = { own: principal.owner_id, tid: principal.token_id, tms: principal.max_sessions, cip: deps.bindClientIp ? ip : undefined, url: chosen.url, expiresAt: chosen.expiresAt, jti: chosen.jti }
    memo.set(routing, memoKey, { node: selection.node, answerNode: node, urlBeforeGrant, silentAt: silent }, viewer)
  }
  return {
    url: chosen.url,
    node,
    expiresAt: chosen.expiresAt,
    alternates: others.map((other) => signedUrl(other).url),
    owner: principal.owner_id,
    grantId: chosen.jti,
    group,
    rule,
    country,
    partner: server.partner
  }
}

/**
 * This viewer's signed URL to a remembered choice's node: the one made for them this second
 * when their grant would say the same, else a grant signed now. The memo is where such grants
 * are remembered, so this one is not looked up nor kept among the grants as well.
 */
function viewerRedirect (
  deps: StreamRequestDeps, memo: RedirectMemo, input: StreamRequestInput, subject: string, principal: Principal, ip: string, selection: MemoizedSelection
): ViewerRedirect {
  const cip = deps.bindClientIp ? ip : undefined
  const known = selection.viewers.get(principal.token_id)
  if (known !== undefined && known.own === principal.owner_id && known.tms === principal.max_sessions && known.cip === cip) return known
  const grant = deps.grants.fresh(grantClaims(deps, input, subject, principal, ip, selection.node._id))
  const viewer = { own: principal.owner_id, tid: principal.token_id, tms: principal.max_sessions, cip, url: `${selection.urlBeforeGrant}${grant.token}`, expiresAt: grant.expiresAt, jti: grant.jti }
  memo.addViewer(selection, viewer)
  return viewer
}

/** What a viewer's grant for a node says: the stream, its owner and token, and where bound, its address. */
function grantClaims (
  deps: StreamRequestDeps, input: StreamRequestInput, subject: string, principal: Principal, ip: string, node: string, sid?: string
): RedirectClaims {
  const claims: RedirectClaims = { aud: node, sub: subject, fmt: input.format, own: principal.owner_id, tid: principal.token_id }
  // Where the play is admitted, the token's limit is counted exactly.
  if (principal.max_sessions !== undefined) claims.tms = principal.max_sessions
  if (deps.bindClientIp) claims.cip = ip
  if (sid !== undefined) claims.sid = sid
  return claims
}

/** No node anywhere: the overflow URL of the partner or the group, else 503 GW_NO_NODE. */
function overflowAnswer (
  deps: StreamRequestDeps, input: StreamRequestInput, snapshot: Snapshot,
  placed: { partner: string, group: string, rule: GeoRule, country: string | null }, owner: string
): StreamAnswer {
  const { partner, group, rule, country } = placed
  const target = overflowTarget(snapshot, partner, group)
  if (target === null) throw gatewayError('GW_NO_NODE', `no ${input.pattern} node serves ${input.format} for group ${group} or its fallbacks`)
  deps.onOverflow?.(target.from)
  const url = overflowUrl(target, input.server, input.camera, input.format)
  return {
    url,
    node: { id: `overflow:${target.from}:${target.id}`, host: new URL(url).host, group },
    expiresAt: deps.now(),
    alternates: [],
    owner,
    grantId: '',
    group,
    rule,
    country,
    partner,
    overflow: true
  }
}

const DEFAULT_ALTERNATES = 2
/** How old a grant shown for a failed node may be, by default: as long as an HLS session lasts. */
const FAILED_GRANT_MAX_AGE_MS = 12 * 3600_000

/**
 * The node a client says failed it, when the grant it shows (failed_sig) proves it was sent
 * there: signed by geogate, for that node, this camera and this owner, and not older than a
 * play may last. Anything else is ignored: the answer is what it would be without it.
 */
function provenFailure (deps: StreamRequestDeps, input: StreamRequestInput, subject: string, owner: string): string | undefined {
  const { failed, failedSig } = input
  if (failed === undefined || failedSig === undefined || deps.failedGrants === undefined) return undefined
  try {
    const claims = deps.failedGrants.verify(failedSig, { audience: failed, subject, allowExpired: true })
    if (claims.own !== owner) return undefined
    if (deps.now() - claims.iat * 1000 > (deps.failedGrantMaxAgeMs ?? FAILED_GRANT_MAX_AGE_MS)) return undefined
    return failed
  } catch {
    return undefined
  }
}
