// A metric whose values are read only when /metrics is scraped. The request path counts into
// plain numbers and arrays (a Map lookup and an increment); this turns them into Prometheus
// series at scrape time, through prom-client's registry like its own metrics.

import type { Metric, Registry } from 'prom-client'

export interface ScrapedValue {
  labels: Record<string, string | number>
  value: number
  /** For a histogram's _bucket, _sum and _count series. */
  metricName?: string
}

export interface ScrapedMetricSpec {
  name: string
  help: string
  type: 'counter' | 'gauge' | 'histogram'
  values: () => ScrapedValue[]
}

export function registerScrapedMetric (registry: Registry, spec: ScrapedMetricSpec): void {
  const metric = {
    name: spec.name,
    help: spec.help,
    type: spec.type,
    aggregator: 'sum',
    get: () => ({ name: spec.name, help: spec.help, type: spec.type, aggregator: 'sum', values: spec.values() }),
    reset: () => {}
  }
  registry.registerMetric(metric as unknown as Metric)
}

/** Histogram buckets as counted (one count per bucket, not cumulative) and the sum. */
export interface HistogramCounts {
  /** Upper bounds in seconds, ascending; +Inf is implicit. */
  bounds: readonly number[]
  /** counts[i] for bounds[i]; counts[bounds.length] past the last bound. */
  counts: Float64Array
  sum: number
}

export function createHistogramCounts (bounds: readonly number[]): HistogramCounts {
  return { bounds, counts: new Float64Array(bounds.length + 1), sum: 0 }
}

export function observe (histogram: HistogramCounts, seconds: number): void {
  const { bounds } = histogram
  let i = 0
  while (i < bounds.length && seconds > (bounds[i] as number)) i++
  histogram.counts[i] = (histogram.counts[i] as number) + 1
  histogram.sum += seconds
}

/** The Prometheus series of a histogram: cumulative buckets, sum and count. */
export function histogramValues (name: string, labels: Record<string, string>, histogram: HistogramCounts): ScrapedValue[] {
  const values: ScrapedValue[] = []
  let cumulative = 0
  histogram.bounds.forEach((bound, i) => {
    cumulative += histogram.counts[i] as number
    values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: bound }, value: cumulative })
  })
  cumulative += histogram.counts[histogram.bounds.length] as number
  values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: cumulative })
  values.push({ metricName: `${name}_sum`, labels, value: histogram.sum })
  values.push({ metricName: `${name}_count`, labels, value: cumulative })
  return values
}
