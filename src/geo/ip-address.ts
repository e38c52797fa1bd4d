// IPv4 and IPv6 text → bits, without a dependency and without allocating: every request's
// client IP goes through here (trusted-proxy check, CIDR rules), so the parser writes into a
// caller's Uint32Array instead of returning a new value.

/** What parseIpInto found. MAPPED is an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
export const NOT_IP = 0
export const IPV4 = 4
export const IPV6 = 6
export const MAPPED = 46
export type ParsedKind = typeof NOT_IP | typeof IPV4 | typeof IPV6 | typeof MAPPED

const CHAR_0 = 48
const CHAR_9 = 57
const CHAR_A = 65
const CHAR_F = 70
const CHAR_LOWER_A = 97
const CHAR_LOWER_F = 102
const CHAR_DOT = 46
const CHAR_COLON = 58
const CHAR_PERCENT = 37

const groups = new Uint16Array(8)

/**
 * Parses dotted-quad IPv4 text between start and end into one unsigned 32-bit number, or -1.
 * Leading zeros are refused: '010.0.0.1' is octal to some parsers and decimal to others.
 */
function parseV4 (ip: string, start: number, end: number): number {
  let value = 0
  let octet = 0
  let digits = 0
  let dots = 0
  let leadingZero = false
  for (let i = start; i < end; i++) {
    const c = ip.charCodeAt(i)
    if (c >= CHAR_0 && c <= CHAR_9) {
      if (leadingZero) return -1
      if (digits === 0 && c === CHAR_0) leadingZero = true
      octet = octet * 10 + (c - CHAR_0)
      if (++digits > 3 || octet > 255) return -1
    } else if (c === CHAR_DOT) {
      if (digits === 0 || ++dots > 3) return -1
      value = value * 256 + octet
      octet = 0
      digits = 0
      leadingZero = false
    } else {
      return -1
    }
  }
  if (digits === 0 || dots !== 3) return -1
  return value * 256 + octet
}

function hexValue (c: number): number {
  if (c >= CHAR_0 && c <= CHAR_9) return c - CHAR_0
  if (c >= CHAR_LOWER_A && c <= CHAR_LOWER_F) return c - CHAR_LOWER_A + 10
  if (c >= CHAR_A && c <= CHAR_F) return c - CHAR_A + 10
  return -1
}

/** Parses IPv6 text (optionally with an embedded IPv4 tail) into out[0..3]; false if malformed. */
function parseV6 (ip: string, end: number, out: Uint32Array): boolean {
  let count = 0
  let gap = -1
  let i = 0
  if (ip.charCodeAt(0) === CHAR_COLON) {
    if (ip.charCodeAt(1) !== CHAR_COLON) return false
    gap = 0
    i = 2
  }
  while (i < end) {
    const groupStart = i
    let value = 0
    let digits = 0
    let h = 0
    while (i < end && (h = hexValue(ip.charCodeAt(i))) >= 0) {
      value = value * 16 + h
      i++
      if (++digits > 4) return false
    }
    if (i < end && ip.charCodeAt(i) === CHAR_DOT) {
      // An embedded IPv4 address: only as the last 32 bits.
      if (count > 6) return false
      const v4 = parseV4(ip, groupStart, end)
      if (v4 < 0) return false
      groups[count++] = v4 >>> 16
      groups[count++] = v4 & 0xffff
      i = end
      break
    }
    if (digits === 0) return false
    if (count === 8) return false
    groups[count++] = value
    if (i === end) break
    // A colon must follow; a second one marks the gap.
    if (ip.charCodeAt(i) !== CHAR_COLON) return false
    i++
    if (i < end && ip.charCodeAt(i) === CHAR_COLON) {
      if (gap >= 0) return false
      gap = count
      i++
    } else if (i === end) {
      return false
    }
  }
  if (gap >= 0) {
    if (count > 7) return false
    const tail = count - gap
    const shift = 8 - count
    for (let k = tail - 1; k >= 0; k--) groups[gap + shift + k] = groups[gap + k] as number
    for (let k = gap; k < gap + shift; k++) groups[k] = 0
  } else if (count !== 8) {
    return false
  }
  for (let w = 0; w < 4; w++) {
    out[w] = (((groups[2 * w] as number) << 16) | (groups[2 * w + 1] as number)) >>> 0
  }
  return true
}

/**
 * Parses ip into out: an IPv4 address (or an IPv4-mapped IPv6 one) as one number in out[0];
 * an IPv6 address as four 32-bit words, most significant first. A zone suffix (fe80::1%eth0)
 * is accepted and ignored.
 */
export function parseIpInto (ip: string, out: Uint32Array): ParsedKind {
  const length = ip.length
  if (length < 2 || length > 64) return NOT_IP
  let colon = false
  let end = length
  for (let i = 0; i < length; i++) {
    const c = ip.charCodeAt(i)
    if (c === CHAR_COLON) {
      colon = true
    } else if (c === CHAR_PERCENT) {
      end = i
      break
    }
  }
  if (!colon) {
    if (end !== length) return NOT_IP
    const v4 = parseV4(ip, 0, length)
    if (v4 < 0) return NOT_IP
    out[0] = v4
    return IPV4
  }
  if (end === length - 1) return NOT_IP
  if (!parseV6(ip, end, out)) return NOT_IP
  if (out[0] === 0 && out[1] === 0 && out[2] === 0xffff) {
    out[0] = out[3] as number
    return MAPPED
  }
  return IPV6
}

/** Formats an unsigned 32-bit number as dotted-quad IPv4 text. */
export function formatV4 (value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`
}
