// What a stored node or partner must hold for selection and the redirect to read it without
// throwing. The routing snapshot checks every document with these before indexing it: one
// document written behind the admin API's back (a script, a restore, a hand edit) is left out
// of routing and reported, instead of failing the whole snapshot and freezing every other
// change. Only build time pays for these checks; selection reads the indexed documents as
// before. Nothing here trusts the document types: a stored document may hold anything.

import { IPV6, MAPPED, parseIpInto } from '../geo/ip-address.js'

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isStringList (value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}

function isFiniteNumber (value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

const HOST_NAME = /^[A-Za-z0-9.-]{1,253}$/
const scratch = new Uint32Array(4)

/**
 * What is wrong with a node's host for the redirect, which writes it into the URL's authority
 * (bracketed when it holds a colon): undefined for a DNS name, an IPv4 address or an IPv6
 * address that makes a URL a client can parse.
 */
export function nodeHostProblem (host: unknown): string | undefined {
  if (typeof host !== 'string' || host === '') return 'must be a host name or an IP address'
  if (host.includes(':')) {
    const kind = parseIpInto(host, scratch)
    if ((kind !== IPV6 && kind !== MAPPED) || host.includes('%')) return 'holds a colon but is not an IPv6 address'
    return URL.canParse(`http://[${host}]/`) ? undefined : 'is not an IPv6 address a URL can hold'
  }
  if (!HOST_NAME.test(host)) return 'must be a host name or an IP address (letters, digits, dots and hyphens)'
  return URL.canParse(`http://${host}/`) ? undefined : 'is not a host a URL can hold'
}

/** What in a stored node selection or the redirect cannot read; undefined when it is fine. */
export function nodeProblem (doc: unknown): string | undefined {
  if (!isRecord(doc)) return 'is not an object'
  if (typeof doc._id !== 'string' || doc._id === '') return '_id must be a non-empty string'
  const host = nodeHostProblem(doc.host)
  if (host !== undefined) return `host ${host}`
  if (!Number.isInteger(doc.port) || (doc.port as number) < 1 || (doc.port as number) > 65535) return 'port must be a whole number from 1 to 65535'
  if (typeof doc.tls !== 'boolean') return 'tls must be true or false'
  if (typeof doc.group !== 'string') return 'group must be a string'
  for (const list of ['patterns', 'formats', 'partners'] as const) {
    if (!isStringList(doc[list])) return `${list} must be a list of strings`
  }
  if (!isRecord(doc.capacity) || typeof doc.capacity.sessions !== 'number') return 'capacity must be {sessions: number}'
  if (typeof doc.enabled !== 'boolean') return 'enabled must be true or false'
  if (doc.draining !== undefined && typeof doc.draining !== 'boolean') return 'draining must be true or false'
  if (doc.last_seen !== null && !(doc.last_seen instanceof Date)) return 'last_seen must be a date or null'
  const load = doc.load
  if (!isRecord(load) || !isFiniteNumber(load.sessions) || !isFiniteNumber(load.mbps) || !isFiniteNumber(load.cpu)) {
    return 'load must be {sessions, mbps, cpu} numbers'
  }
  return undefined
}

/** What in a stored partner selection cannot read; undefined when it is fine. */
export function partnerProblem (doc: unknown): string | undefined {
  if (!isRecord(doc)) return 'is not an object'
  if (typeof doc._id !== 'string' || doc._id === '') return '_id must be a non-empty string'
  const fallbacks = doc.pattern_fallbacks
  if (!isRecord(fallbacks) || !Object.values(fallbacks).every(isStringList)) {
    return 'pattern_fallbacks must map each pattern to a list of patterns'
  }
  return undefined
}
