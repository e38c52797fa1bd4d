// /metrics on a listener of its own: served there, 404 on the main port; or, with METRICS_PORT
// `main`, on the main port as before. Also as the `geogate resolver` process runs it.

import t from 'tap'
import { request } from 'undici'
import { loadConfig } from '../../src/config.js'
import { openCityDatabase } from '../../src/geo/maxmind-lookup.js'
import { listenWithMetrics, metricsPortFor } from '../../src/commands/metrics-listener.js'
import { resolverApp } from '../../src/resolver/app.js'
import { buildApp } from '../../src/server.js'
import { cityFixture } from '../fixtures/mmdb/paths.js'
import { startGeogate } from '../helpers/processes.js'

const city = await openCityDatabase(cityFixture)
t.teardown(() => city.close())

async function status (url: string, method = 'GET'): Promise<{ status: number, body: string }> {
  const res = await request(url, { method })
  return { status: res.statusCode, body: await res.body.text() }
}

t.test('METRICS_PORT: unset is the main port + 1000 (0 stays 0), `main` the main port, a number itself', async (t) => {
  t.equal(metricsPortFor(undefined, 8080), 9080)
  t.equal(metricsPortFor(undefined, 0), 0)
  t.equal(metricsPortFor('main', 8080), undefined)
  t.equal(metricsPortFor(9100, 8080), 9100)
  t.equal(loadConfig({}).metricsPort, undefined, 'production: a listener of its own by default')
  t.equal(loadConfig({ METRICS_PORT: 'main' }).metricsPort, 'main')
  t.equal(loadConfig({ METRICS_PORT: '9100' }).metricsPort, 9100)
  t.throws(() => loadConfig({ METRICS_PORT: 'ninety' }), /METRICS_PORT: must be a whole number/)
  t.throws(() => loadConfig({ SERVICE_KEYS: 'gw:short' }), /SERVICE_KEYS: the secret of gw must be 32–512 characters/)
  t.throws(() => loadConfig({ SERVICE_CLOCK_SKEW_S: '0' }), /SERVICE_CLOCK_SKEW_S: must be between 1 and 600/)
})

t.test('a separate listener serves /metrics, and the main port no longer does', async (t) => {
  const app = await buildApp(resolverApp, { databases: { city }, signedCalls: false })
  t.teardown(() => app.close())
  const { url, metricsUrl } = await listenWithMetrics(app, '127.0.0.1', 0, { host: '127.0.0.1', port: 0 })
  t.not(new URL(metricsUrl).port, new URL(url).port)
  const scraped = await status(metricsUrl)
  t.equal(scraped.status, 200)
  t.match(scraped.body, /geogate_resolver_/)
  t.equal((await status(`${metricsUrl}?x=1`)).status, 200)
  t.equal((await status(`${url}/metrics`)).status, 404, 'not on the main port')
  t.equal((await status(`${url}/resolve?ip=81.2.69.160`)).status, 200, 'the main port serves the rest')
  t.equal((await status(`${new URL(metricsUrl).origin}/resolve?ip=81.2.69.160`)).status, 404, 'the listener serves nothing else')
  t.equal((await status(metricsUrl, 'POST')).status, 404)
  await app.close()
  await t.rejects(request(metricsUrl), 'the listener closes with the app')
})

t.test('METRICS_PORT=main keeps /metrics on the main port', async (t) => {
  const app = await buildApp(resolverApp, { databases: { city }, signedCalls: false })
  t.teardown(() => app.close())
  const { url, metricsUrl } = await listenWithMetrics(app, '127.0.0.1', 0, { host: '127.0.0.1', port: 'main' })
  t.equal(metricsUrl, `${url}/metrics`)
  t.equal((await status(metricsUrl)).status, 200)
})

t.test('`geogate resolver` prints where its metrics are, and signs nothing there', async (t) => {
  const resolver = await startGeogate(t, 'resolver', { RESOLVER_PORT: '0' })
  const metricsUrl = /\(metrics: (http:\/\/\S+)\)/.exec(resolver.output())?.[1] ?? ''
  t.match(metricsUrl, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
  t.equal((await status(metricsUrl)).status, 200)
  t.equal((await status(`${resolver.url}/metrics`)).status, 404)
  const unsigned = await status(`${resolver.url}/resolve?ip=81.2.69.160`)
  t.equal(unsigned.status, 401)
  t.match(unsigned.body, /GW_SERVICE_UNAUTHORIZED/)
  t.equal((await status(`${resolver.url}/healthz`)).status, 200)
})

t.test('a process that needs SERVICE_KEYS will not start without them', async (t) => {
  await t.rejects(startGeogate(t, 'resolver', { RESOLVER_PORT: '0', SERVICE_KEYS: '' }), /SERVICE_KEYS: required by the resolver/)
  await t.rejects(startGeogate(t, 'resolver', { RESOLVER_PORT: '0', SERVICE_KEYS: 'gw' }), /SERVICE_KEYS: each key must be id:secret/)
})
