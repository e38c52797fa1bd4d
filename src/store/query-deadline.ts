// A deadline for the MongoDB queries on a client's request path. The driver (7.x) ignores
// `timeoutMS`, so the bound has two parts: `maxTimeMS`, with which the server itself stops a
// query that runs long, and a timer here for a server that does not answer at all (a stalled
// network, a primary being elected). Past the deadline the caller gets a DeadlineError at
// once; the query, if it ever answers, is ignored.

import { DeadlineError } from '../upstream/deadline.js'

export interface QueryBound {
  maxTimeMS: number
}

/** Runs query (which must pass the bound to each of its queries) within ms, or rejects. */
export async function withinDeadline<T> (ms: number, query: (bound: QueryBound) => Promise<T>): Promise<T> {
  const pending = query({ maxTimeMS: ms })
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(ms)), ms)
  })
  try {
    return await Promise.race([pending, late])
  } finally {
    clearTimeout(timer)
    // Answered after the deadline, or failed: either way no one is waiting any more.
    pending.catch(() => {})
  }
}
