import { isIP } from 'node:net'
import t from 'tap'
import { createCidrMatcher, ipVersion, normalizeIp } from '../../src/geo/cidr.js'

t.test('ipVersion tells IPv4, IPv6 and garbage apart', async (t) => {
  const cases: Array<[string, 0 | 4 | 6]> = [
    ['1.2.3.4', 4], ['255.255.255.255', 4], ['0.0.0.0', 4],
    ['::', 6], ['::1', 6], ['2001:db8::1', 6], ['2001:DB8:0:0:8:800:200C:417A', 6],
    ['1:2:3:4:5:6:7::', 6], ['::2:3:4:5:6:7:8', 6], ['1:2:3:4:5:6:1.2.3.4', 6],
    ['::ffff:1.2.3.4', 6], ['0:0:0:0:0:ffff:1.2.3.4', 6], ['fe80::1%eth0', 6],
    ['', 0], ['1.2.3', 0], ['1.2.3.4.5', 0], ['256.1.1.1', 0], ['01.2.3.4', 0], ['1.2.3.4 ', 0],
    [' 1.2.3.4', 0], ['1..2.3', 0], [':::', 0], ['1::2::3', 0], ['1:2:3:4:5:6:7:8:9', 0],
    ['12345::', 0], ['g::1', 0], [':1::', 0], ['1:', 0], ['1:2:3:4:5:6:7:1.2.3.4', 0],
    ['::1.2.3', 0], ['1.2.3.4%eth0', 0], ['fe80::1%', 0], ['localhost', 0], ['unknown', 0]
  ]
  for (const [ip, version] of cases) {
    t.equal(ipVersion(ip), version, JSON.stringify(ip))
  }
})

t.test('ipVersion agrees with node:net on generated addresses', async (t) => {
  // Random IPv6 addresses in every compressed form, plus single-character corruptions of them.
  let seed = 42
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n
  }
  let disagreements = 0
  for (let i = 0; i < 2000; i++) {
    const groups = Array.from({ length: 8 }, () => (random(3) === 0 ? 0 : random(65536)).toString(16))
    let text = groups.join(':')
    if (random(2) === 0) {
      const start = random(8)
      const length = 1 + random(8 - start)
      text = `${groups.slice(0, start).join(':')}::${groups.slice(start + length).join(':')}`
    }
    const corrupted = random(3) === 0
      ? text.slice(0, random(text.length)) + ':.g1'[random(4)] + text.slice(random(text.length))
      : text
    if (ipVersion(corrupted) !== isIP(corrupted)) {
      disagreements++
      t.fail(`disagree on ${corrupted}: ${ipVersion(corrupted)} vs ${isIP(corrupted)}`)
    }
  }
  t.equal(disagreements, 0)
})

t.test('normalizeIp turns IPv4-mapped IPv6 into IPv4 and leaves the rest', async (t) => {
  t.equal(normalizeIp('::ffff:127.0.0.1'), '127.0.0.1')
  t.equal(normalizeIp('::FFFF:10.1.2.3'), '10.1.2.3')
  t.equal(normalizeIp('0:0:0:0:0:ffff:1.2.3.4'), '1.2.3.4')
  t.equal(normalizeIp('::ffff:102:304'), '1.2.3.4')
  t.equal(normalizeIp('1.2.3.4'), '1.2.3.4')
  t.equal(normalizeIp('::1'), '::1')
  t.equal(normalizeIp('2001:db8::1'), '2001:db8::1')
  t.equal(normalizeIp('not an ip'), 'not an ip')
})

t.test('longest prefix wins over IPv4', async (t) => {
  const m = createCidrMatcher([
    ['10.0.0.0/8', 'wide'],
    ['10.1.0.0/16', 'narrow'],
    ['10.1.2.3', 'host'],
    ['0.0.0.0/0', 'everything']
  ])
  t.equal(m.longestMatch('10.200.0.1'), 'wide')
  t.equal(m.longestMatch('10.1.200.1'), 'narrow')
  t.equal(m.longestMatch('10.1.2.3'), 'host')
  t.equal(m.longestMatch('10.1.2.4'), 'narrow')
  t.equal(m.longestMatch('11.0.0.1'), 'everything')
  t.equal(m.longestMatch('::ffff:10.1.2.3'), 'host', 'an IPv4-mapped address matches its IPv4 rules')
  t.equal(m.longestMatch('2001:db8::1'), undefined, 'IPv4 rules never match IPv6')
  t.equal(m.longestMatch('nonsense'), undefined)
})

t.test('longest prefix wins over IPv6', async (t) => {
  const m = createCidrMatcher([
    ['2001:db8::/32', 'doc'],
    ['2001:db8:abcd::/48', 'site'],
    ['2001:db8:abcd:12::/64', 'lan'],
    ['2001:db8:abcd:12::1/128', 'host'],
    ['::ffff:192.168.0.0/112', 'mapped']
  ])
  t.equal(m.longestMatch('2001:db8:1::1'), 'doc')
  t.equal(m.longestMatch('2001:db8:abcd:ff::1'), 'site')
  t.equal(m.longestMatch('2001:db8:abcd:12::2'), 'lan')
  t.equal(m.longestMatch('2001:db8:abcd:12::1'), 'host')
  t.equal(m.longestMatch('2001:0db8:ABCD:0012:0000:0000:0000:0001'), 'host', 'any spelling of the address')
  t.equal(m.longestMatch('2001:db9::1'), undefined)
  t.equal(m.longestMatch('192.168.7.7'), 'mapped', 'a mapped prefix matches plain IPv4')
  t.equal(m.longestMatch('1.2.3.4'), undefined)
})

t.test('host bits below the prefix are ignored; the first duplicate wins', async (t) => {
  const m = createCidrMatcher([['192.168.1.77/24', 'a'], ['192.168.1.0/24', 'b']])
  t.equal(m.longestMatch('192.168.1.1'), 'a')
  t.equal(m.longestMatch('192.168.2.1'), undefined)
})

t.test('a matcher with no entries matches nothing', async (t) => {
  const m = createCidrMatcher<string>([])
  t.equal(m.longestMatch('1.2.3.4'), undefined)
  t.equal(m.longestMatch('::1'), undefined)
})

t.test('malformed CIDRs throw a TypeError naming the entry', async (t) => {
  for (const bad of ['10.0.0.0/33', '10.0.0/8', '2001:db8::/129', '10.0.0.0/', '10.0.0.0/08', '10.0.0.0/-1', 'fe80::/10%eth0', 'fe80::1%eth0/128', 'example.com/24', '']) {
    t.throws(() => createCidrMatcher([['10.0.0.0/8', 1], [bad, 2]]), {
      name: 'TypeError',
      message: new RegExp(`invalid CIDR ${JSON.stringify(bad).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(entry 1\\)`)
    }, bad)
  }
})
