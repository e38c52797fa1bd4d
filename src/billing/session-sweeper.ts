// Removes the documents of plays that are over: sessions and slots (stream slots and grant
// seats) whose lease ended more than a grace ago. Nothing else deletes them when a viewer goes
// idle, a node dies without its hooks' stops, or a grant's exp passes, and the embedded store has
// no TTL expiry; a store that only grows makes every session start slower (it scans on every
// query: about 1 ms per 1,000 documents).
//
// Correctness never waits for this: every query already filters on expires_at, so a document
// past its lease counts for nothing whether or not it is still there, and a slot that is deleted
// is taken again by writing it anew (take-slot.ts). That also makes the sweep safe with many
// replicas running it at once: each batch is a read of ids, then one delete that re-checks the
// lease per document, so a lease renewed in between is left alone, and two replicas deleting
// the same document delete it once. The grace covers clocks that differ between replicas.
// Batches are bounded, so one sweep never holds the store for long; what is left waits for
// the next.
//
// A session swept here ran out unnoticed (its viewer went idle, its node went silent), so this
// is where its end is told (SessionEvents), when anyone listens: its documents are then read
// whole and deleted one by one, so that of the replicas sweeping together the one whose delete
// removed it tells, once. A session ended by an operator or a
// revocation was told then, and is only removed here.

import { startPeriodicTask } from './periodic-task.js'
import type { SessionEvents } from './session-events.js'
import type { SessionCollections } from './sessions.js'

export interface SweepOptions {
  nowMs: number
  /** How long past its lease a document is kept. */
  graceMs: number
  /** Documents per batch. */
  batch: number
  /** Batches per collection in one sweep. */
  maxBatches: number
  /** Told of the end of each session swept (when it wants to be). */
  events?: SessionEvents
}

export interface Swept {
  sessions: number
  slots: number
}

export const SWEEP_DEFAULTS = { graceMs: 60_000, batch: 500, maxBatches: 10 } as const

export async function sweepExpiredSessions (collections: SessionCollections, options: SweepOptions): Promise<Swept> {
  const cutoff = { expires_at: { $lt: new Date(options.nowMs - options.graceMs) } }
  // Sessions first: a session never points at a slot that is gone while it could still be live.
  const events = options.events
  const sessions = events?.wanted === true
    ? await sweepTellingEnds(collections.sessions, cutoff, options, events)
    : await sweepCollection(collections.sessions, cutoff, options)
  const slots = await sweepCollection(collections.slots, cutoff, options)
  return { sessions, slots }
}

type Expired = { expires_at: { $lt: Date } }

interface SweptCollection {
  find: (filter: Expired, options: { projection: { _id: 1 }, limit: number }) => { toArray: () => Promise<Array<{ _id: string }>> }
  deleteMany: (filter: Expired & { _id: { $in: string[] } }) => Promise<{ deletedCount: number }>
}

async function sweepCollection (collection: SweptCollection, cutoff: Expired, options: SweepOptions): Promise<number> {
  let deleted = 0
  for (let b = 0; b < options.maxBatches; b++) {
    const ids = (await collection.find(cutoff, { projection: { _id: 1 }, limit: options.batch }).toArray()).map((doc) => doc._id)
    if (ids.length === 0) break
    deleted += (await collection.deleteMany({ _id: { $in: ids }, ...cutoff })).deletedCount
    if (ids.length < options.batch) break
  }
  return deleted
}

const DELETES_AT_ONCE = 16

/**
 * Per document, so that each end is told by the replica whose delete took it: the documents
 * are read whole, and each delete re-checks the lease and says whether it removed one.
 */
async function sweepTellingEnds (sessions: SessionCollections['sessions'], cutoff: Expired, options: SweepOptions, events: SessionEvents): Promise<number> {
  let deleted = 0
  for (let b = 0; b < options.maxBatches; b++) {
    const docs = await sessions.find(cutoff, { limit: options.batch }).toArray()
    if (docs.length === 0) break
    // A few at a time: a batch's deletes must not queue past the store's query deadline.
    for (let i = 0; i < docs.length; i += DELETES_AT_ONCE) {
      const some = docs.slice(i, i + DELETES_AT_ONCE)
      const results = await Promise.all(some.map(async (doc) => await sessions.deleteOne({ _id: doc._id, ...cutoff })))
      results.forEach((result, j) => {
        if (result.deletedCount === 0) return
        deleted++
        const doc = some[j]
        if (doc !== undefined && doc.ended_at === undefined) events.ended(doc, 'expired', doc.expires_at)
      })
    }
    if (docs.length < options.batch) break
  }
  return deleted
}

export interface SessionSweeperOptions extends Partial<Omit<SweepOptions, 'nowMs'>> {
  collections: SessionCollections
  everyMs: number
  now: () => number
  onSwept?: (swept: Swept) => void
  onError?: (err: unknown) => void
}

export interface SessionSweeper {
  /** One sweep now; the timer's sweeps never overlap it. */
  sweep: () => Promise<Swept>
  /** Stops the timer and waits for a sweep under way. */
  close: () => Promise<void>
}

export function startSessionSweeper (options: SessionSweeperOptions): SessionSweeper {
  const sweepOptions = {
    graceMs: options.graceMs ?? SWEEP_DEFAULTS.graceMs,
    batch: options.batch ?? SWEEP_DEFAULTS.batch,
    maxBatches: options.maxBatches ?? SWEEP_DEFAULTS.maxBatches
  }

  async function sweepOnce (): Promise<Swept> {
    const swept = await sweepExpiredSessions(options.collections, {
      ...sweepOptions, nowMs: options.now(), ...(options.events !== undefined && { events: options.events })
    })
    options.onSwept?.(swept)
    return swept
  }

  const task = startPeriodicTask({ everyMs: options.everyMs, run: sweepOnce, ...(options.onError !== undefined && { onError: options.onError }) })
  return { sweep: task.run, close: task.close }
}
