// Revoking a token or suspending an account stops new redirects at once, but a play that started
// before goes on: an HLS session for as long as its viewer keeps fetching (up to
// HLS_SESSION_MAX_S), a hook play until its viewer leaves. The guard ends them. Every few
// seconds each replica reads the live sessions (their token ids and owners only), then the
// tokens and accounts behind them (two queries of ids), and ends each session whose token is
// gone or expired or whose account is no longer active (end-session.ts: the end reaches the
// viewer on every replica).
//
// Thousands of live sessions are thousands of documents to decode (the embedded store sends
// whole documents whatever the projection: 5,000 sessions took 230 ms of one core), so every
// read goes through readInSlices: requests are answered between slices of a millisecond, where
// one toArray had held them all for a quarter of a second every check.
//
// It reads the store, not the auth client's cache: that cache is keyed by tokens, which the
// gateway never keeps, while a session knows its token only by id (its sha256, the tokens
// collection's _id). A revocation is thus seen within one guard period, well within
// AUTH_GRANT_TTL_MS. Replicas may find the same session at once: the end is conditional and
// ends it once.

import type { SessionEndedBy } from '../store/documents.js'
import type { Collections } from '../store/mongo.js'
import { readInSlices } from '../store/read-in-slices.js'
import { startPeriodicTask } from './periodic-task.js'

export interface SessionGuardOptions {
  collections: Pick<Collections, 'sessions' | 'tokens' | 'accounts'>
  everyMs: number
  now: () => number
  /** Ends one session (createSessionEnder's end); a failure is reported and retried next time. */
  end: (id: string, reason: Extract<SessionEndedBy, 'revoked' | 'suspended'>) => Promise<unknown>
  onError?: (err: unknown) => void
  /** How long a read works between two turns of the event loop (ms); default readInSlices'. */
  sliceMs?: number
}

export interface SessionGuard {
  /** One check now: how many sessions it ended. The timer's checks never overlap it. */
  check: () => Promise<number>
  close: () => Promise<void>
}

/** Ids per query: a long $in list is one large query; these are a few. */
const IDS_PER_QUERY = 1000

export function startSessionGuard (options: SessionGuardOptions): SessionGuard {
  const { sessions, tokens, accounts } = options.collections
  const sliced = options.sliceMs === undefined ? {} : { sliceMs: options.sliceMs }

  async function checkOnce (): Promise<number> {
    const now = new Date(options.now())
    const live: Array<{ _id: string, owner: string, tid?: string }> = []
    await readInSlices(sessions.find({ expires_at: { $gt: now }, ended_at: { $exists: false } }, { projection: { _id: 1, owner: 1, tid: 1 } }), (doc) => {
      live.push({ _id: doc._id, owner: doc.owner, ...(doc.tid !== undefined && { tid: doc.tid }) })
    }, sliced)
    if (live.length === 0) return 0
    const tids = [...new Set(live.flatMap((doc) => doc.tid ?? []))]
    const owners = [...new Set(live.map((doc) => doc.owner))]
    const liveTokens = new Set<string>()
    for (const ids of slices(tids)) {
      await readInSlices(tokens.find({ _id: { $in: ids } }, { projection: { expires_at: 1 } }), (doc) => {
        if (doc.expires_at === null || doc.expires_at > now) liveTokens.add(doc._id)
      }, sliced)
    }
    const activeOwners = new Set<string>()
    for (const ids of slices(owners)) {
      await readInSlices(accounts.find({ _id: { $in: ids } }, { projection: { status: 1 } }), (doc) => {
        if (doc.status === 'active') activeOwners.add(doc._id)
      }, sliced)
    }
    let ended = 0
    for (const doc of live) {
      const reason = !activeOwners.has(doc.owner) ? 'suspended' : doc.tid !== undefined && !liveTokens.has(doc.tid) ? 'revoked' : undefined
      if (reason === undefined) continue
      try {
        if (await options.end(doc._id, reason) !== null) ended++
      } catch (err) {
        options.onError?.(err)
      }
    }
    return ended
  }

  const task = startPeriodicTask({ everyMs: options.everyMs, run: checkOnce, ...(options.onError !== undefined && { onError: options.onError }) })
  return { check: task.run, close: task.close }
}

function slices<T> (items: T[]): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += IDS_PER_QUERY) out.push(items.slice(i, i + IDS_PER_QUERY))
  return out
}
