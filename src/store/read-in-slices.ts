// Reading thousands of documents without holding up requests. A cursor hands out a fetched
// batch's documents without a turn of the event loop in between, and decoding each costs
// microseconds: ten thousand node documents read in one go would keep every request waiting
// for tens of milliseconds. Here the reader gives the event loop a turn every `slice`
// documents, so requests are answered between slices.

import { setImmediate as nextTurn } from 'node:timers/promises'

/** Documents handled between two turns of the event loop, by default. */
export const DEFAULT_SLICE = 200

/**
 * Calls each for every document of the cursor, slice documents at a time; resolves with how
 * many there were.
 */
export async function readInSlices<T> (cursor: AsyncIterable<T>, each: (doc: T) => void, slice = DEFAULT_SLICE): Promise<number> {
  if (!Number.isInteger(slice) || slice < 1) throw new TypeError('slice must be a positive integer')
  let count = 0
  for await (const doc of cursor) {
    each(doc)
    if (++count % slice === 0) await nextTurn()
  }
  return count
}
