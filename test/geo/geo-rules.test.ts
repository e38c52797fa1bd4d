// The geo rules as pure functions: which rule applies (camera > account > tariff), what an
// allow and a deny list let in, an unknown country, and rules stored by hand in a bad shape.

import t from 'tap'
import { countryAllowed, decidingGeoRule, geoBlocked, narrowestGeoRule } from '../../src/geo/geo-rules.js'
import type { CountryRule } from '../../src/store/documents.js'

t.test('the narrowest rule applies, alone', async (t) => {
  const camera = { geo: { allow: ['FR'] } }
  const account = { _id: 'acct', geo: { deny: ['RU'] } }
  const tariff = { _id: 'eu', geo: { allow: ['FR', 'DE'] } }
  t.equal(narrowestGeoRule(camera, account, tariff), camera.geo)
  t.equal(narrowestGeoRule({}, account, tariff), account.geo)
  t.equal(narrowestGeoRule(undefined, {}, tariff), tariff.geo)
  t.equal(narrowestGeoRule(undefined, null, null), undefined)
  t.same(decidingGeoRule(camera, 'S/C', account, tariff), { source: 'camera', id: 'S/C', rule: { allow: ['FR'] } })
  t.same(decidingGeoRule(undefined, 'S/C', account, tariff), { source: 'account', id: 'acct', rule: { deny: ['RU'] } })
  t.same(decidingGeoRule(undefined, 'S/C', { _id: 'acct' }, tariff), { source: 'tariff', id: 'eu', rule: { allow: ['FR', 'DE'] } })
  t.equal(decidingGeoRule(undefined, 'S/C', null, null), null)
})

t.test('allow lets in only its countries; deny keeps out only its own; unknown fails allow, passes deny', async (t) => {
  const allow = { allow: ['GB', 'FR'] }
  const deny = { deny: ['RU'] }
  t.ok(countryAllowed(allow, 'GB'))
  t.notOk(countryAllowed(allow, 'RU'))
  t.notOk(countryAllowed(allow, null))
  t.ok(countryAllowed(deny, 'GB'))
  t.notOk(countryAllowed(deny, 'RU'))
  t.ok(countryAllowed(deny, null))
})

t.test('a rule stored by hand in a bad shape never throws: an allow that is no list lets nobody in', async (t) => {
  t.notOk(countryAllowed({ allow: 'GB' } as unknown as CountryRule, 'GB'))
  t.ok(countryAllowed({ deny: 'GB' } as unknown as CountryRule, 'RU'))
  t.ok(countryAllowed({}, 'RU'), 'no list: no rule')
  t.notOk(countryAllowed({ allow: ['GB'], deny: ['RU'] }, 'FR'), 'both: the allow list decides')
})

t.test('a refusal names where the rule was found and the country, never an account id', async (t) => {
  const camera = geoBlocked({ source: 'camera', id: 'S/C', rule: { deny: ['RU'] } }, 'RU')
  t.match(camera, { code: 'GW_GEO_BLOCKED', statusCode: 403, message: 'camera S/C\'s geo rule does not allow viewers in RU' })
  const account = geoBlocked({ source: 'account', id: 'acct-secret', rule: { allow: ['GB'] } }, null)
  t.equal(account.message, 'the account\'s geo rule does not allow viewers from an unknown country')
})
