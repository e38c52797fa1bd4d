// A label's values, bounded: each value gets a small integer the hot path counts under, and
// past a limit of distinct values (or, for a closed set, any value not listed) a new one is
// folded into `other`. Label values can come from what clients send (a route's path, an error
// code) or from what admins create (node ids): either way a stranger cannot grow a metric's
// series, and so the gateway's memory or the Prometheus server's, without bound.

export const OTHER = 'other'

export interface BoundedLabel {
  /** The value's index; `other`'s (0) once the limit is reached, or for an unlisted value of a closed set. */
  index: (value: string) => number
  /** Every value known so far, by index; `other` first. */
  readonly values: readonly string[]
}

export interface BoundedLabelOptions {
  /** Values known from the start. */
  known?: readonly string[]
  /** Most values learned besides the known ones; 0: a closed set. */
  learn?: number
}

export function createBoundedLabel (options: BoundedLabelOptions): BoundedLabel {
  const learn = options.learn ?? 0
  if (!Number.isInteger(learn) || learn < 0) throw new TypeError(`learn must be a whole number ≥ 0, got ${String(learn)}`)
  const values: string[] = [OTHER]
  const indexes = new Map<string, number>([[OTHER, 0]])
  for (const value of options.known ?? []) {
    if (!indexes.has(value)) indexes.set(value, values.push(value) - 1)
  }
  const limit = values.length + learn
  return {
    index (value) {
      const found = indexes.get(value)
      if (found !== undefined) return found
      if (values.length >= limit) return 0
      const index = values.push(value) - 1
      indexes.set(value, index)
      return index
    },
    values
  }
}
