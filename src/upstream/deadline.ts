// A deadline for a whole call to an upstream service (resolver, auth-server): a signal that
// aborts the call when it runs past ms, and a clear() for when it ends in time.
//
// AbortSignal.timeout would read shorter, but its timer fires whether or not the call is over
// and, while the signal is still reachable, builds a DOMException with a stack trace: under a
// burst of new clients that was a tenth of the gateway's CPU. This timer is cleared when the
// call ends, so only a call that really times out pays for its error.

export class DeadlineError extends Error {
  constructor (ms: number) {
    super(`no answer within ${ms} ms`)
    this.name = 'TimeoutError'
  }
}

export interface Deadline {
  readonly signal: AbortSignal
  /** Stops the clock; call it once the call has ended, answered or not. */
  clear: () => void
}

export function startDeadline (ms: number): Deadline {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new DeadlineError(ms)), ms)
  // A pending deadline alone must not keep a process alive.
  timer.unref()
  return { signal: controller.signal, clear: () => clearTimeout(timer) }
}
