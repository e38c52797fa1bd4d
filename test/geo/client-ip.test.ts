import t from 'tap'
import { createClientIpResolver } from '../../src/geo/client-ip.js'

const resolve = createClientIpResolver(['10.0.0.0/8', '127.0.0.1', '2001:db8:1::/48'])

t.test('an untrusted peer is the client, whatever X-Forwarded-For says', async (t) => {
  t.equal(resolve('203.0.113.9', '77.88.8.8'), '203.0.113.9')
  t.equal(resolve('203.0.113.9', undefined), '203.0.113.9')
  t.equal(resolve('2001:db8:2::5', '77.88.8.8'), '2001:db8:2::5')
})

t.test('a trusted peer passes on the hop to its left', async (t) => {
  t.equal(resolve('10.1.1.1', '77.88.8.8'), '77.88.8.8')
  t.equal(resolve('127.0.0.1', '77.88.8.8'), '77.88.8.8')
  t.equal(resolve('2001:db8:1::7', '2a01:4f8::1'), '2a01:4f8::1')
  t.equal(resolve('10.1.1.1', undefined), '10.1.1.1', 'no header: the peer itself')
  t.equal(resolve('10.1.1.1', ''), '10.1.1.1')
})

t.test('multi-hop: trusted hops are skipped from the right, the first untrusted one wins', async (t) => {
  // client → proxy 10.2.2.2 → proxy 10.1.1.1 (peer). The spoofed leftmost entry is ignored.
  t.equal(resolve('10.1.1.1', '6.6.6.6, 77.88.8.8, 10.2.2.2'), '77.88.8.8')
  t.equal(resolve('10.1.1.1', '6.6.6.6,77.88.8.8 ,  10.2.2.2'), '77.88.8.8', 'spaces around commas')
  t.equal(resolve('10.1.1.1', '77.88.8.8, 81.2.69.142'), '81.2.69.142', 'an untrusted hop stops the walk')
})

t.test('all hops trusted: the leftmost one', async (t) => {
  t.equal(resolve('10.1.1.1', '10.3.3.3, 10.2.2.2'), '10.3.3.3')
})

t.test('a malformed hop stops the walk at the last good address', async (t) => {
  t.equal(resolve('10.1.1.1', '77.88.8.8, unknown, 10.2.2.2'), '10.2.2.2')
  t.equal(resolve('10.1.1.1', '77.88.8.8, garbage'), '10.1.1.1')
  t.equal(resolve('10.1.1.1', '77.88.8.8,'), '10.1.1.1', 'an empty hop is malformed')
})

t.test('hops with ports and brackets', async (t) => {
  t.equal(resolve('10.1.1.1', '77.88.8.8:51234'), '77.88.8.8')
  t.equal(resolve('10.1.1.1', '[2a01:4f8::1]:443'), '2a01:4f8::1')
  t.equal(resolve('10.1.1.1', '[2a01:4f8::1]'), '2a01:4f8::1')
  t.equal(resolve('10.1.1.1', '[77.88.8.8]'), '10.1.1.1', 'brackets hold IPv6 only')
  t.equal(resolve('10.1.1.1', '[2a01:4f8::1'), '10.1.1.1')
})

t.test('IPv4-mapped peers and hops are normalized', async (t) => {
  t.equal(resolve('::ffff:10.1.1.1', '77.88.8.8'), '77.88.8.8', 'a mapped trusted peer is trusted')
  t.equal(resolve('::ffff:203.0.113.9', '77.88.8.8'), '203.0.113.9', 'a mapped untrusted peer comes back as IPv4')
  t.equal(resolve('::ffff:10.1.1.1', '::ffff:77.88.8.8'), '77.88.8.8')
  t.equal(resolve('::ffff:10.1.1.1', '::ffff:10.2.2.2, 10.1.1.1'), '10.2.2.2')
})

t.test('no trusted proxies: always the peer', async (t) => {
  const direct = createClientIpResolver([])
  t.equal(direct('127.0.0.1', '77.88.8.8'), '127.0.0.1')
})

t.test('a malformed trusted proxy is refused', async (t) => {
  t.throws(() => createClientIpResolver(['10.0.0.0/8', 'localhost']), TypeError)
})
