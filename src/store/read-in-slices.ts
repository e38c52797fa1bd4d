// Reading thousands of documents without holding up requests. A cursor hands out a fetched
// batch's documents without a turn of the event loop in between, and decoding each costs
// microseconds (a full node document about 15 µs on a busy core): ten thousand read in one go
// would keep every request waiting for over a hundred milliseconds. Here the reader gives the
// event loop a turn whenever it has worked for `sliceMs`, so requests are answered between
// slices and none waits much longer than a slice. A budget of time rather than a count of
// documents holds whatever the documents' size and the machine's speed.

import { setImmediate as nextTurn } from 'node:timers/promises'

/** How long a slice may run, by default, in milliseconds. */
export const DEFAULT_SLICE_MS = 1

export interface SliceOptions {
  /** How long the reader works between two turns of the event loop, in ms. */
  sliceMs?: number
  /** A monotonic clock in ms (tests move their own). */
  now?: () => number
}

/** Calls each for every document of the cursor, in slices of time; resolves with how many there were. */
export async function readInSlices<T> (cursor: AsyncIterable<T>, each: (doc: T) => void, options: SliceOptions = {}): Promise<number> {
  const sliceMs = options.sliceMs ?? DEFAULT_SLICE_MS
  if (!Number.isFinite(sliceMs) || sliceMs <= 0) throw new TypeError('sliceMs must be a positive number')
  const now = options.now ?? (() => performance.now())
  let count = 0
  let sliceStart = now()
  for await (const doc of cursor) {
    each(doc)
    count++
    if (now() - sliceStart >= sliceMs) {
      await nextTurn()
      sliceStart = now()
    }
  }
  return count
}
