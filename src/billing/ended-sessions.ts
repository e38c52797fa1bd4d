// How every replica learns that an HLS session was ended elsewhere. A replica continues a warm
// session from memory and reads the store at most once per lease renewal (5 s), so an end
// written by another replica would otherwise reach it only then. Instead each replica asks the
// store once per poll (default every second) for the HLS sessions ended since its last poll,
// ids only, and hands them to its HLS sessions, which refuse them from memory from then on.
// One small query per replica per second, whatever the number of viewers; a warm segment check
// still reads nothing.
//
// Each poll looks back a few seconds before the last one: ended_at is written on the clock of
// the replica that ended the session, which may lag this one's. Seeing an end twice is harmless.

import { startPeriodicTask } from './periodic-task.js'

export interface EndedSessionsOptions {
  sessions: {
    find: (filter: { ended_at: { $gt: Date }, renewed_by: 'requests' }, options: { projection: { _id: 1 } }) => { toArray: () => Promise<Array<{ _id: string }>> }
  }
  everyMs: number
  now: () => number
  /** How far before the last poll each poll looks (ms); default 5000. */
  skewMs?: number
  onEnded: (ids: string[]) => void
  onError?: (err: unknown) => void
}

export interface EndedSessionsWatch {
  /** One poll now; the timer's polls never overlap it. */
  poll: () => Promise<number>
  close: () => Promise<void>
}

export function watchEndedSessions (options: EndedSessionsOptions): EndedSessionsWatch {
  const skewMs = options.skewMs ?? 5000
  let since = options.now() - skewMs

  async function pollOnce (): Promise<number> {
    const startedAt = options.now()
    const ended = await options.sessions.find({ ended_at: { $gt: new Date(since) }, renewed_by: 'requests' }, { projection: { _id: 1 } }).toArray()
    since = startedAt - skewMs
    if (ended.length > 0) options.onEnded(ended.map((doc) => doc._id))
    return ended.length
  }

  const task = startPeriodicTask({ everyMs: options.everyMs, run: pollOnce, ...(options.onError !== undefined && { onError: options.onError }) })
  return { poll: task.run, close: task.close }
}
