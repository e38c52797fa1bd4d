// HS256 from the key's padded blocks gives createHmac's answer, for every length of key and
// message, on the fast path and past it.

import { createHmac, createSecretKey, randomBytes } from 'node:crypto'
import t from 'tap'
import { createHs256 } from '../../src/signing/hs256.js'

t.test('the same MAC as createHmac for keys shorter than, as long as and longer than a block', async (t) => {
  const messages = ['', 'a', 'eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJndyJ9', 'é€😀 non-ASCII', 'x'.repeat(1365), 'é'.repeat(1365), 'y'.repeat(1366), 'z'.repeat(10_000)]
  for (const length of [1, 32, 63, 64, 65, 200]) {
    const secret = randomBytes(length)
    const key = createSecretKey(secret)
    const mac = createHs256(key)
    for (const message of messages) {
      t.equal(mac(message), createHmac('sha256', secret).update(message).digest('base64url'), `key of ${length} bytes, message of ${message.length} characters`)
    }
  }
})

t.test('one MAC does not leak into the next: a long message, then a short one', async (t) => {
  const secret = randomBytes(40)
  const mac = createHs256(createSecretKey(secret))
  mac('L'.repeat(1300))
  t.equal(mac('short'), createHmac('sha256', secret).update('short').digest('base64url'))
})

t.test('the key it is made from is left as it was', async (t) => {
  const secret = randomBytes(48)
  const key = createSecretKey(secret)
  createHs256(key)
  t.same(key.export(), secret, 'the KeyObject still holds the secret')
})

t.test('only a secret key', async (t) => {
  const { privateKey } = await import('node:crypto').then(({ generateKeyPairSync }) => generateKeyPairSync('ec', { namedCurve: 'P-256' }))
  t.throws(() => createHs256(privateKey), TypeError)
})
