// The checks every factory of a cache, a breaker or an upstream client makes of its number
// options, written once: a wrong timeout or size fails at start with a TypeError naming the
// option and what it got, never later as a cache that holds nothing or a call that never ends.

export function positiveNumber (name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive number, got ${String(value)}`)
  }
  return value
}

export function nonNegativeNumber (name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${name} must be a number, 0 or more, got ${String(value)}`)
  }
  return value
}

export function positiveInteger (name: string, value: number, least = 1): number {
  if (!Number.isInteger(value) || value < least) {
    throw new TypeError(`${name} must be a whole number, ${least} or more, got ${String(value)}`)
  }
  return value
}
