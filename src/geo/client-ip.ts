// Which address the client has: the socket's peer, unless that peer is one of our own proxies,
// in which case X-Forwarded-For says who it forwarded for. The header is written by whoever
// sent the request, so only the hops that trusted proxies appended can be believed: walk it
// from the right and stop at the first address that is not a trusted proxy.

import { createCidrMatcher, ipVersion, normalizeIp } from './cidr.js'

export type ClientIpResolver = (peerAddress: string, forwardedFor: string | undefined) => string

/**
 * A hop as proxies write it: a bare address, '[v6]' or '[v6]:port', or 'a.b.c.d:port'; the
 * address normalized, or undefined when the hop is not an address ('unknown', garbage).
 */
function parseHop (hop: string): string | undefined {
  if (ipVersion(hop) !== 0) return normalizeIp(hop)
  let address: string
  if (hop.charCodeAt(0) === 91) { // '['
    const close = hop.indexOf(']')
    if (close < 0 || (close !== hop.length - 1 && hop.charCodeAt(close + 1) !== 58)) return undefined
    address = hop.slice(1, close)
    if (ipVersion(address) !== 6) return undefined
  } else {
    const colon = hop.indexOf(':')
    if (colon < 0 || hop.indexOf(':', colon + 1) >= 0) return undefined
    address = hop.slice(0, colon)
    if (ipVersion(address) !== 4) return undefined
  }
  return normalizeIp(address)
}

/**
 * trustedProxies: CIDRs (or bare addresses) of the proxies in front of the gateway. Throws a
 * TypeError for a malformed one.
 */
export function createClientIpResolver (trustedProxies: readonly string[]): ClientIpResolver {
  const trusted = createCidrMatcher(trustedProxies.map((cidr) => [cidr, true] as const))
  const none = trustedProxies.length === 0

  return function resolveClientIp (peerAddress: string, forwardedFor: string | undefined): string {
    const peer = normalizeIp(peerAddress)
    if (none || forwardedFor === undefined || forwardedFor === '' || trusted.longestMatch(peer) !== true) {
      return peer
    }
    let best = peer
    let end = forwardedFor.length
    while (end > 0) {
      const comma = forwardedFor.lastIndexOf(',', end - 1)
      const hop = parseHop(forwardedFor.slice(comma + 1, end).trim())
      if (hop === undefined) return best
      if (trusted.longestMatch(hop) !== true) return hop
      best = hop
      end = comma < 0 ? 0 : comma
    }
    return best
  }
}
