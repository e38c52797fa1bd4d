// A circuit breaker for a dependency that may go down: after N failures in a row, stop calling
// it for a cooldown, then let one probe through to find out whether it is back. While the
// breaker is open, callers go straight to their fallback instead of waiting on a timeout.

import { nonNegativeNumber, positiveInteger } from './number-options.js'

export type CircuitState = 'closed' | 'open' | 'half-open'

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker; a positive integer. */
  failureThreshold: number
  /** How long (ms) the breaker stays open before it lets a probe through. */
  cooldownMs: number
  now?: () => number
}

export interface CircuitBreaker {
  /**
   * Whether a call may go out now. In half-open state it answers true once (the probe); the
   * caller must then report the probe's outcome with recordSuccess or recordFailure.
   */
  canRequest: () => boolean
  /**
   * Whether canRequest would answer false now (open and cooling down, or a probe out),
   * without taking the probe: callers use it to go to their fallback without a call.
   */
  refusing: () => boolean
  recordSuccess: () => void
  recordFailure: () => void
  readonly state: CircuitState
}

export function createCircuitBreaker (options: CircuitBreakerOptions): CircuitBreaker {
  const failureThreshold = positiveInteger('failureThreshold', options.failureThreshold)
  const cooldownMs = nonNegativeNumber('cooldownMs', options.cooldownMs)
  const now = options.now ?? Date.now

  let state: CircuitState = 'closed'
  let failures = 0
  /** When the breaker opened, or when the current probe went out. */
  let since = 0

  function open (): void {
    state = 'open'
    since = now()
  }

  function refusing (): boolean {
    // A probe whose outcome never came back (its caller lost it) must not keep the breaker
    // half-open forever: after another cooldown, a new probe goes through.
    return state !== 'closed' && now() - since < cooldownMs
  }

  return {
    refusing,
    canRequest (): boolean {
      if (state === 'closed') return true
      if (refusing()) return false
      state = 'half-open'
      since = now()
      return true
    },
    recordSuccess (): void {
      // While open, a late answer to a call sent before the breaker opened proves little.
      if (state === 'open') return
      state = 'closed'
      failures = 0
    },
    recordFailure (): void {
      if (state === 'half-open') {
        open()
      } else if (state === 'closed' && ++failures >= failureThreshold) {
        failures = 0
        open()
      }
    },
    get state () { return state }
  }
}
