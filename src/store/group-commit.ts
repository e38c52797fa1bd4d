// Many writers, one save at a time. A writer may call its write kept only once a save that
// began after the write holds it, so each commit waits for the next save to start, never for
// one already under way (that one may have read before the write landed). Writers that ask
// while a save runs share the one that follows it: at 20 writes a second and a save of tens of
// milliseconds, most writes wait for one save, and saves never pile up behind each other.

export interface GroupCommit<R> {
  /** Resolves with (or rejects as) the first save that starts after this call. */
  commit: () => Promise<R>
  /** Resolves once no save is running or waiting to run. */
  idle: () => Promise<void>
}

export function createGroupCommit<R> (save: () => Promise<R>): GroupCommit<R> {
  let last: Promise<unknown> = Promise.resolve()
  let next: Promise<R> | undefined
  return {
    commit () {
      if (next === undefined) {
        const run = last.then(() => {
          // From here on a new writer needs the save after this one.
          next = undefined
          return save()
        })
        next = run
        last = run.catch(() => {})
      }
      return next
    },
    async idle () {
      let seen: Promise<unknown>
      do {
        seen = last
        await seen
      } while (seen !== last)
    }
  }
}
