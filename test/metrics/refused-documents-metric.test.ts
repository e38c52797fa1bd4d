// geogate_snapshot_refused_documents names each stored document the routing snapshot left out,
// with bounded labels: ids come from whatever was written to the store, so past a hundred the
// rest are counted under id "other", and a collection routing does not read is "other" too.

import t from 'tap'
import { createGatewayMetrics } from '../../src/metrics/gateway-metrics.js'

function series (text: string): string[] {
  return text.split('\n').filter((line) => line.startsWith('geogate_snapshot_refused_documents{'))
}

t.test('one series per refused document, read at scrape time', async (t) => {
  const metrics = createGatewayMetrics()
  t.same(series(await metrics.registry.metrics()), [], 'none before a source is watched')
  let refused = [{ collection: 'geo_groups', id: 'poison' }, { collection: 'nodes', id: 'node-x' }]
  metrics.watchRefusedDocuments(() => refused)
  t.same(series(await metrics.registry.metrics()), [
    'geogate_snapshot_refused_documents{collection="geo_groups",id="poison"} 1',
    'geogate_snapshot_refused_documents{collection="nodes",id="node-x"} 1'
  ])
  refused = []
  t.same(series(await metrics.registry.metrics()), [], 'a fixed document leaves the metric')
})

t.test('labels stay bounded', async (t) => {
  const metrics = createGatewayMetrics()
  const many = Array.from({ length: 150 }, (_, i) => ({ collection: 'nodes', id: `n${i}` }))
  metrics.watchRefusedDocuments(() => [...many, { collection: 'servers', id: 's' }, { collection: 'nodes', id: 'n0' }])
  const lines = series(await metrics.registry.metrics())
  t.equal(lines.length, 102, 'a hundred named, then one other per collection')
  t.ok(lines.includes('geogate_snapshot_refused_documents{collection="nodes",id="other"} 50'))
  t.ok(lines.includes('geogate_snapshot_refused_documents{collection="other",id="other"} 1'))
})
