// The background tasks of billing (the sweeper of plays that are over, the watch for sessions
// ended elsewhere, the guard of revoked tokens) share one shape: a run every everyMs that never
// overlaps another, a run on demand that joins the one under way, a failure reported and
// retried at the next tick, a timer that never keeps the process alive, and a close that stops
// the timer and waits for the run under way. Written once here.

export interface PeriodicTaskOptions<T> {
  everyMs: number
  run: () => Promise<T>
  /** A failed run; the next tick tries again. */
  onError?: (err: unknown) => void
}

export interface PeriodicTask<T> {
  /** One run now, or the one under way: the timer's runs never overlap it. */
  run: () => Promise<T>
  /** Stops the timer and waits for a run under way (its failure is not thrown). */
  close: () => Promise<void>
}

export function startPeriodicTask<T> (options: PeriodicTaskOptions<T>): PeriodicTask<T> {
  if (!(Number.isInteger(options.everyMs) && options.everyMs > 0)) throw new TypeError('everyMs must be a positive integer')
  let running: Promise<T> | undefined
  let timer: NodeJS.Timeout | undefined
  let closed = false

  function run (): Promise<T> {
    running ??= options.run().finally(() => { running = undefined })
    return running
  }

  function schedule (): void {
    if (closed) return
    timer = setTimeout(() => {
      run().catch((err: unknown) => options.onError?.(err)).finally(schedule)
    }, options.everyMs)
    // Housekeeping never keeps a process alive.
    timer.unref()
  }
  schedule()

  return {
    run,
    async close () {
      closed = true
      clearTimeout(timer)
      await running?.catch(() => {})
    }
  }
}
