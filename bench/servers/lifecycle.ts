// How a bench server announces itself and leaves: one `BENCH_READY {json}` line on stdout, and
// on SIGTERM, SIGINT or — when BENCH_WATCH_STDIN=1, as the runner sets it — the end of stdin
// (the runner has gone) it runs its closers and exits with 0: a clean exit, so that
// `node --cpu-prof` writes its profile.

export type Closer = () => Promise<void> | void

export function announceReady (info: object): void {
  process.stdout.write(`BENCH_READY ${JSON.stringify(info)}\n`)
}

/** Returns the shutdown itself, for a server that fails after it opened something. */
export function closeOnShutdown (closers: Closer[], name: string): (why: string, exitCode?: number) => void {
  let closing = false
  const shutdown = (why: string, exitCode = 0): void => {
    if (closing) return
    closing = true
    const force = setTimeout(() => {
      process.stderr.write(`${name}: closing took too long after ${why}; exiting\n`)
      process.exit(1)
    }, 5000)
    force.unref()
    void (async () => {
      for (const close of [...closers].reverse()) {
        try {
          await close()
        } catch (err) {
          process.stderr.write(`${name}: while closing: ${(err as Error).message}\n`)
        }
      }
      process.exit(exitCode)
    })()
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  process.once('SIGINT', () => shutdown('SIGINT'))
  if (process.env.BENCH_WATCH_STDIN === '1') {
    process.stdin.on('end', () => shutdown('the end of stdin'))
    process.stdin.on('error', () => shutdown('a stdin error'))
    process.stdin.resume()
  }
  return shutdown
}

/** Reports an error that stops the server, then closes what it opened and exits with 1. */
export function failStart (name: string, err: unknown, shutdown?: (why: string, exitCode?: number) => void): void {
  process.stderr.write(`${name}: ${(err as Error).stack ?? String(err)}\n`)
  if (shutdown === undefined) process.exit(1)
  shutdown('an error', 1)
}

/**
 * On SIGUSR2, a full garbage collection (when node runs with --expose-gc) and one line
 * `BENCH_HEAP {heapUsedMb, gc}` on stdout: the heap the process really holds, not the garbage
 * that a busy process has not collected yet.
 */
export function reportHeapOnSignal (): void {
  process.on('SIGUSR2', () => {
    const collect = (globalThis as { gc?: () => void }).gc
    collect?.()
    collect?.()
    const heapUsedMb = Math.round(process.memoryUsage().heapUsed / 1024 / 1024 * 10) / 10
    process.stdout.write(`BENCH_HEAP ${JSON.stringify({ heapUsedMb, gc: collect !== undefined })}\n`)
  })
}
