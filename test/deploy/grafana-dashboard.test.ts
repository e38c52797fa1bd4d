// deploy/grafana/geogate.json: every query (panels and variables) names only metrics the
// gateway exports, and the dashboard has the panels docs/design.md section 9 asks for.

import { readFileSync } from 'node:fs'
import t from 'tap'
import { createGatewayMetrics } from '../../src/metrics/gateway-metrics.js'

const dashboard = JSON.parse(readFileSync(new URL('../../deploy/grafana/geogate.json', import.meta.url), 'utf8')) as {
  panels: Array<{ title: string, targets?: Array<{ expr: string }> }>
  templating: { list: Array<{ name: string, query?: unknown, definition?: string }> }
}

/** The metric names the gateway's /metrics text has, histogram series included. */
async function exported (): Promise<Set<string>> {
  const metrics = createGatewayMetrics({ defaultMetrics: true })
  metrics.requestAnswered('/flv', 302, undefined, 0.001)
  const names = new Set<string>()
  for (const line of (await metrics.registry.metrics()).split('\n')) {
    const typed = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (typed === null) continue
    const [, name, type] = typed as unknown as [string, string, string]
    names.add(name)
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix)
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix)
  }
  return names
}

const PROMQL_WORDS = new Set([
  'sum', 'min', 'max', 'avg', 'count', 'stddev', 'topk', 'bottomk', 'quantile', 'by', 'without', 'on', 'ignoring',
  'group_left', 'group_right', 'and', 'or', 'unless', 'offset', 'bool', 'rate', 'irate', 'increase', 'delta',
  'histogram_quantile', 'label_values', 'clamp_min', 'clamp_max', 'abs', 'time', 'vector', 'scalar', 'changes', 'resets'
])

/** The metric names a PromQL expression reads: identifiers outside strings, label matchers, ranges and grouping lists. */
function metricNamesIn (expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,[^)]*\)/g, ' $1 ')
  const names = bare.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []
  return names.filter((name) => !PROMQL_WORDS.has(name) && !/^(\$__\w+|\d.*|e\d+)$/.test(name))
}

t.test('the expression parser finds metric names and nothing else', async (t) => {
  t.same(metricNamesIn('histogram_quantile(0.99, sum by (le) (rate(geogate_request_duration_seconds_bucket{route=~"/flv|x"}[$__rate_interval])))'), ['geogate_request_duration_seconds_bucket'])
  t.same(metricNamesIn('sum(rate(a_total{code!="none"}[5m])) / sum(rate(b_total[5m]))'), ['a_total', 'b_total'])
  t.same(metricNamesIn('label_values(geogate_store_up, instance)'), ['geogate_store_up'])
})

t.test('every query names only metrics the gateway exports', async (t) => {
  const names = await exported()
  const queries: Array<{ where: string, expr: string }> = []
  for (const panel of dashboard.panels) {
    t.ok((panel.targets ?? []).length > 0, `panel "${panel.title}" has a query`)
    for (const target of panel.targets ?? []) queries.push({ where: panel.title, expr: target.expr })
  }
  for (const variable of dashboard.templating.list) {
    if (typeof variable.definition === 'string') queries.push({ where: `variable ${variable.name}`, expr: variable.definition })
  }
  t.ok(queries.length >= 15, `${queries.length} queries`)
  for (const { where, expr } of queries) {
    const used = metricNamesIn(expr)
    t.ok(used.length > 0, `${where}: reads a metric`)
    for (const name of used) t.ok(names.has(name), `${where}: ${name} is exported`)
  }
})

t.test('the panels the operator needs are there', async (t) => {
  const exprOf = (pattern: RegExp): string => dashboard.panels.filter((p) => pattern.test(p.title)).flatMap((p) => (p.targets ?? []).map((q) => q.expr)).join('\n')
  t.match(exprOf(/redirect rate by node/i), /by \(node\)[\s\S]*geogate_redirects_total/)
  t.match(exprOf(/redirect rate by geo group/i), /by \(group\)[\s\S]*geogate_redirects_total/)
  t.match(exprOf(/errors by code/i), /by \(code\)[\s\S]*geogate_requests_total/)
  const latency = exprOf(/latency/i)
  t.match(latency, /histogram_quantile\(0\.5,/)
  t.match(latency, /histogram_quantile\(0\.99,/)
  t.match(exprOf(/upstream calls/i), /geogate_upstream_errors_total/)
  t.match(exprOf(/breaker/i), /geogate_upstream_breaker_state/)
  t.match(exprOf(/store up/i), /geogate_store_up/)
  t.match(exprOf(/snapshot/i), /geogate_snapshot_age_seconds/)
})
