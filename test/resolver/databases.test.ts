import t from 'tap'
import { resolverApp, type ResolverAppOptions } from '../../src/resolver/app.js'
import { buildApp } from '../../src/server.js'

const buildResolverService = async (options: ResolverAppOptions) => await buildApp(resolverApp, options)
import { asnFixture, cityFixture } from '../fixtures/mmdb/paths.js'

t.test('opens the databases it is given and answers from them', async (t) => {
  const app = await buildResolverService({ signedCalls: false, cityDatabasePath: cityFixture, asnDatabasePath: asnFixture })
  t.teardown(() => app.close())
  const res = await app.inject('/resolve?ip=81.2.69.142')
  t.equal(res.statusCode, 200)
  t.match(res.json(), { city: 'London', asn: 20712, org: 'Andrews & Arnold Ltd' })
})

t.test('a database that does not open fails the build', async (t) => {
  await t.rejects(buildResolverService({ signedCalls: false, cityDatabasePath: '/nonexistent/city.mmdb' }), { code: 'ENOENT' })
  await t.rejects(buildResolverService({ signedCalls: false, cityDatabasePath: cityFixture, asnDatabasePath: '/nonexistent/asn.mmdb' }), { code: 'ENOENT' })
})
