// Label sets stay bounded whatever is counted: past its limit a value is `other`, and a closed
// set (statuses, error codes) has no room for a value it does not list.

import t from 'tap'
import { createBoundedLabel } from '../../src/metrics/bounded-label.js'
import { createGatewayMetrics } from '../../src/metrics/gateway-metrics.js'

t.test('a bounded label learns up to its limit, then folds into other', async (t) => {
  const label = createBoundedLabel({ known: ['a'], learn: 2 })
  t.equal(label.index('a'), 1)
  t.equal(label.index('b'), 2)
  t.equal(label.index('c'), 3)
  t.equal(label.index('d'), 0, 'past the limit')
  t.equal(label.index('b'), 2, 'a learned value keeps its index')
  t.same(label.values, ['other', 'a', 'b', 'c'])
  t.equal(createBoundedLabel({ known: ['x'] }).index('y'), 0, 'a closed set')
  t.throws(() => createBoundedLabel({ learn: -1 }), TypeError)
})

function seriesOf (text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`))
}

t.test('the gateway\'s metrics do not grow with what strangers or admins invent', async (t) => {
  const metrics = createGatewayMetrics()
  for (let i = 0; i < 5000; i++) metrics.redirected(`node-${i}`, `group-${i % 300}`, `partner-${i % 250}`)
  for (let i = 0; i < 500; i++) metrics.knowRoute(`/route-${i}`)
  metrics.requestAnswered('/route-499', 418, 'NOT_A_CODE', 0.001)
  metrics.requestAnswered(undefined, 404, 'GW_NOT_FOUND', 0)
  const text = await metrics.registry.metrics()

  const redirects = seriesOf(text, 'geogate_redirects_total')
  t.ok(redirects.length <= 10_001, `redirect series bounded (${redirects.length})`)
  const total = redirects.reduce((sum, line) => sum + Number(line.split(' ').pop()), 0)
  t.equal(total, 5000, 'every redirect still counted')
  const nodes = new Set(redirects.map((line) => /node="([^"]*)"/.exec(line)?.[1]))
  t.ok(nodes.size <= 1001, 'at most 1000 nodes and other')
  t.ok(nodes.has('other'), 'the rest are other')
  t.ok(new Set(redirects.map((line) => /group="([^"]*)"/.exec(line)?.[1])).size <= 201, 'groups bounded')

  const requests = seriesOf(text, 'geogate_requests_total')
  t.same(requests.sort(), [
    'geogate_requests_total{route="other",status="other",code="other"} 1',
    'geogate_requests_total{route="unmatched",status="404",code="GW_NOT_FOUND"} 1'
  ].sort(), 'an unknown route, status and code are other')
  t.ok(seriesOf(text, 'geogate_request_duration_seconds_bucket').every((line) => /route="(other|unmatched)"/.test(line)))
})
