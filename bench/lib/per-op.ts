// Nanoseconds per call of a small function: a warm-up so the JIT has settled, then one timed
// loop. Whatever the function returns is folded into a sink so the loop cannot be optimised away.

let sink = 0

export function nsPerOp (fn: (i: number) => unknown, iterations: number): number {
  const warmup = Math.min(iterations, 50_000)
  for (let i = 0; i < warmup; i++) sink ^= fold(fn(i))
  const start = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) sink ^= fold(fn(i))
  const elapsed = Number(process.hrtime.bigint() - start)
  if (sink === 0.5) process.stdout.write('')
  return elapsed / iterations
}

/** The fastest of several timed rounds: later rounds run on settled code, none is skewed by GC. */
export function bestNsPerOp (fn: (i: number) => unknown, iterations: number, rounds = 3): number {
  let best = Infinity
  for (let r = 0; r < rounds; r++) best = Math.min(best, nsPerOp(fn, iterations))
  return best
}

function fold (value: unknown): number {
  if (typeof value === 'string') return value.length
  if (typeof value === 'number') return value | 0
  return value === undefined || value === null ? 0 : 1
}

export function round (value: number, digits = 2): number {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}
