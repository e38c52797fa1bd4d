// Redirect grants: identical claims within one second share one signed URL, except for HLS,
// whose sessions are told apart by jti.

import t from 'tap'
import { parseSigningKeys } from '../../src/signing/keys.js'
import { createRedirectGrants } from '../../src/signing/redirect-grants.js'
import { createStreamSigner } from '../../src/signing/stream-signature.js'
import { TEST_SIGNING_KEYS } from '../helpers/system.js'

let clock = Date.parse('2030-01-01T00:00:00.100Z')
const now = (): number => clock
const grants = createRedirectGrants(createStreamSigner({ keys: parseSigningKeys(TEST_SIGNING_KEYS), issuer: 'gw-test', now }), now)
const claims = { aud: 'node-a', sub: 'UIN-DEMO-1/cam-1', own: 'acct-demo' }

t.test('FLV and WebSocket grants are shared within a second', async (t) => {
  for (const fmt of ['flv', 'ws-fmp4'] as const) {
    const first = grants.grant({ ...claims, fmt })
    t.equal(grants.grant({ ...claims, fmt }).token, first.token, fmt)
    clock += 1000
    t.not(grants.grant({ ...claims, fmt }).jti, first.jti, `${fmt}: a new second, a new grant`)
  }
})

t.test('HLS grants are never shared: each redirect is its own session', async (t) => {
  const first = grants.grant({ ...claims, fmt: 'hls' })
  const second = grants.grant({ ...claims, fmt: 'hls' })
  t.not(second.jti, first.jti)
  t.not(second.token, first.token)
})

t.test('a fresh grant is signed each time and not kept for the shared ones', async (t) => {
  const first = grants.fresh({ ...claims, fmt: 'flv', tid: 'a'.repeat(64) })
  const second = grants.fresh({ ...claims, fmt: 'flv', tid: 'a'.repeat(64) })
  t.not(second.jti, first.jti)
  t.not(grants.grant({ ...claims, fmt: 'flv', tid: 'a'.repeat(64) }).jti, first.jti, 'not among the shared grants')
})
