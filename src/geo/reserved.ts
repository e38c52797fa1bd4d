// Addresses that have no place on the map: private, loopback, link-local, documentation,
// multicast and other special-purpose ranges (RFC 6890 and the IANA registries). A lookup
// answers "no data" for them whatever a database says.

import { createCidrMatcher } from './cidr.js'

const reservedNetworks = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12',
  '192.0.0.0/24', '192.0.2.0/24', '192.88.99.0/24', '192.168.0.0/16', '198.18.0.0/15',
  '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4',
  '::/128', '::1/128', '100::/64', '2001:db8::/32', 'fc00::/7', 'fe80::/10', 'ff00::/8'
]

const reserved = createCidrMatcher(reservedNetworks.map((cidr) => [cidr, true] as const))

/** True for an address in a private or special-purpose range. */
export function isReservedIp (ip: string): boolean {
  return reserved.longestMatch(ip) === true
}
