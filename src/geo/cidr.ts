// CIDR rules (trusted proxies, geo groups' networks) matched by longest prefix. The rules are
// compiled once into two binary tries (IPv4, IPv6) held in typed arrays, so a match on the
// request path is at most 32 or 128 array steps and allocates nothing.

import { IPV4, IPV6, MAPPED, NOT_IP, formatV4, parseIpInto } from './ip-address.js'

const scratch = new Uint32Array(4)

/** 4 or 6 for an IPv4 or IPv6 address (an IPv4-mapped IPv6 address counts as 6), 0 otherwise. */
export function ipVersion (ip: string): 0 | 4 | 6 {
  const kind = parseIpInto(ip, scratch)
  return kind === NOT_IP ? 0 : kind === IPV4 ? 4 : 6
}

/**
 * An IPv4-mapped IPv6 address (::ffff:1.2.3.4, as a dual-stack socket reports IPv4 peers) as
 * plain IPv4; any other text unchanged.
 */
export function normalizeIp (ip: string): string {
  // Only text starting with ':' or '0' can be IPv4-mapped; skip the parse for the rest.
  const first = ip.charCodeAt(0)
  if (first !== 58 && first !== 48) return ip
  if (parseIpInto(ip, scratch) !== MAPPED) return ip
  // Mostly written ::ffff:a.b.c.d: the dotted tail is the answer, no formatting needed.
  return ip.indexOf('.') > 0 && ip.indexOf('%') < 0 ? ip.slice(ip.lastIndexOf(':') + 1) : formatV4(scratch[0] as number)
}

export interface CidrMatcher<T> {
  /** The value of the longest prefix containing ip; undefined when none does or ip is not an IP. */
  longestMatch: (ip: string) => T | undefined
}

class TrieBuilder<T> {
  readonly left: number[] = [0]
  readonly right: number[] = [0]
  readonly set: boolean[] = [false]
  readonly values: Array<T | undefined> = [undefined]

  /** Inserts the first `length` bits of words; an earlier entry for the same prefix is kept. */
  insert (words: Uint32Array, length: number, value: T): void {
    let node = 0
    for (let bit = 0; bit < length; bit++) {
      const word = words[bit >>> 5] as number
      const side = (word >>> (31 - (bit & 31))) & 1 ? this.right : this.left
      let next = side[node] as number
      if (next === 0) {
        next = this.left.length
        this.left.push(0)
        this.right.push(0)
        this.set.push(false)
        this.values.push(undefined)
        side[node] = next
      }
      node = next
    }
    if (!this.set[node]) {
      this.set[node] = true
      this.values[node] = value
    }
  }

  build (): Trie<T> {
    return {
      left: Int32Array.from(this.left),
      right: Int32Array.from(this.right),
      set: Uint8Array.from(this.set, (s) => (s ? 1 : 0)),
      values: this.values,
      empty: this.left.length === 1 && this.set[0] !== true
    }
  }
}

interface Trie<T> {
  left: Int32Array
  right: Int32Array
  set: Uint8Array
  values: Array<T | undefined>
  empty: boolean
}

function parsePrefixLength (text: string, max: number): number {
  if (!/^(0|[1-9][0-9]{0,2})$/.test(text)) return -1
  const length = Number(text)
  return length <= max ? length : -1
}

type ParsedCidr = { kind: typeof IPV4 | typeof IPV6 | typeof MAPPED, length: number } | { problem: string }

/** Parses one CIDR rule into words (the address bits) and its prefix length, or says what is wrong with it. */
function parseCidrInto (cidr: unknown, words: Uint32Array): ParsedCidr {
  if (typeof cidr !== 'string') return { problem: 'is not text' }
  const slash = cidr.indexOf('/')
  const address = slash < 0 ? cidr : cidr.slice(0, slash)
  if (address.includes('%')) return { problem: 'has a zone (%…), which a network cannot have' }
  const kind = parseIpInto(address, words)
  if (kind === NOT_IP) return { problem: 'does not start with an IPv4 or IPv6 address' }
  const max = kind === IPV4 ? 32 : 128
  const length = slash < 0 ? max : parsePrefixLength(cidr.slice(slash + 1), max)
  if (length < 0) return { problem: `has a prefix length that is not a whole number from 0 to ${max}` }
  return { kind, length }
}

/**
 * What is wrong with a CIDR rule, read exactly as createCidrMatcher reads it; undefined when the
 * matcher takes it. The admin API checks with this, so that what it stores the router can load.
 */
export function cidrProblem (cidr: unknown): string | undefined {
  const parsed = parseCidrInto(cidr, scratch)
  return 'problem' in parsed ? parsed.problem : undefined
}

/**
 * Compiles [cidr, value] entries ('10.0.0.0/8', '2001:db8::/32'; a bare address is a host
 * route) into a longest-prefix matcher. Host bits below the prefix are ignored. When two
 * entries name the same prefix, the first wins. An IPv4-mapped IPv6 prefix (::ffff:0:0/96 and
 * longer) matches the IPv4 addresses it maps. Throws a TypeError naming a malformed entry.
 */
export function createCidrMatcher<T> (entries: ReadonlyArray<readonly [cidr: string, value: T]>): CidrMatcher<T> {
  const v4 = new TrieBuilder<T>()
  const v6 = new TrieBuilder<T>()
  const words = new Uint32Array(4)
  entries.forEach(([cidr, value], index) => {
    const parsed = parseCidrInto(cidr, words)
    if ('problem' in parsed) {
      throw new TypeError(`invalid CIDR ${JSON.stringify(cidr)} (entry ${index}): ${parsed.problem}; expected an IPv4 or IPv6 network such as 10.0.0.0/8 or 2001:db8::/32`)
    }
    const { kind, length } = parsed
    if (kind === IPV4) {
      v4.insert(words, length, value)
    } else if (kind === MAPPED && length >= 96) {
      v4.insert(words, length - 96, value)
    } else {
      if (kind === MAPPED) {
        words[3] = words[0] as number
        words[0] = 0
        words[1] = 0
        words[2] = 0xffff
      }
      v6.insert(words, length, value)
    }
  })
  const trie4 = v4.build()
  const trie6 = v6.build()
  const address = new Uint32Array(4)

  function walk (trie: Trie<T>, bits: number): T | undefined {
    const { left, right, set } = trie
    let node = 0
    let best = -1
    for (let bit = 0; ; bit++) {
      if (set[node] === 1) best = node
      if (bit === bits) break
      const next = ((address[bit >>> 5] as number) >>> (31 - (bit & 31))) & 1
        ? right[node] as number
        : left[node] as number
      if (next === 0) break
      node = next
    }
    return best < 0 ? undefined : trie.values[best]
  }

  return {
    longestMatch (ip: string): T | undefined {
      const kind = parseIpInto(ip, address)
      if (kind === NOT_IP) return undefined
      if (kind === IPV6) return trie6.empty ? undefined : walk(trie6, 128)
      return trie4.empty ? undefined : walk(trie4, 32)
    }
  }
}
