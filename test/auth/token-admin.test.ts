import t from 'tap'
import { createToken, revokeToken } from '../../src/auth/token-admin.js'
import { hashToken } from '../../src/auth/token-hash.js'
import { startTestStore } from '../helpers/store.js'

const store = await startTestStore(t)
const tokens = store.collections.tokens
const grants = [{ object_type: 'camera', object_id: 'UIN-DEMO-1/*', rights: ['view'] }]

t.test('a new token is random, 32 bytes base64url, and stored only as its hash', async (t) => {
  const a = await createToken(tokens, { owner_type: 'account', owner_id: 'acct-a', grants })
  const b = await createToken(tokens, { owner_type: 'account', owner_id: 'acct-a', grants })
  t.match(a.token, /^[A-Za-z0-9_-]{43}$/)
  t.equal(Buffer.from(a.token, 'base64url').length, 32)
  t.not(a.token, b.token)
  t.equal(a.doc._id, hashToken(a.token))
  const stored = await tokens.findOne({ _id: hashToken(a.token) })
  t.same(stored, { _id: hashToken(a.token), owner_type: 'account', owner_id: 'acct-a', grants, expires_at: null })
  t.notMatch(JSON.stringify(stored), a.token, 'the plain token is nowhere in the document')
})

t.test('a given token and expiry are kept', async (t) => {
  const expiresAt = new Date('2031-05-01T00:00:00Z')
  const { token, doc } = await createToken(tokens, { owner_type: 'admin', owner_id: 'ops', grants: [], expires_at: expiresAt, token: 'chosen-token' })
  t.equal(token, 'chosen-token')
  t.same(doc.expires_at, expiresAt)
  const stored = await tokens.findOne({ _id: hashToken('chosen-token') })
  t.equal(stored?.expires_at?.toISOString(), expiresAt.toISOString())
})

t.test('the same token twice is refused by the store', async (t) => {
  await createToken(tokens, { owner_type: 'account', owner_id: 'x', grants, token: 'twice' })
  await t.rejects(createToken(tokens, { owner_type: 'account', owner_id: 'y', grants, token: 'twice' }))
})

t.test('revokeToken deletes by hash and says whether it did', async (t) => {
  const { token } = await createToken(tokens, { owner_type: 'account', owner_id: 'acct-r', grants })
  t.equal(await revokeToken(tokens, token), true)
  t.equal(await tokens.findOne({ _id: hashToken(token) }), null)
  t.equal(await revokeToken(tokens, token), false)
  t.equal(await revokeToken(tokens, 'never-issued'), false)
})

t.test('bad specs are refused before the store sees them', async (t) => {
  const good = { owner_type: 'account', owner_id: 'acct', grants }
  await t.rejects(createToken(tokens, { ...good, owner_id: '' }), TypeError)
  await t.rejects(createToken(tokens, { ...good, owner_type: '' }), TypeError)
  await t.rejects(createToken(tokens, { ...good, grants: [{ object_type: 'camera', object_id: '*', rights: 'view' as unknown as string[] }] }), /grants\[0\]/)
  await t.rejects(createToken(tokens, { ...good, expires_at: new Date('nonsense') }), /expires_at/)
  await t.rejects(createToken(tokens, { ...good, token: '' }), /token/)
  await t.rejects(createToken(tokens, { ...good, token: 'x'.repeat(4097) }), /token/)
  t.equal(await tokens.countDocuments({ owner_id: 'acct' }), 0)
})
