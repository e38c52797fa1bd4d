// The in-memory view of nodes, geo groups and partners that every request routes with.
//
// Each tick (SNAPSHOT_REFRESH_MS) reads only what changed: when an admin write has landed in
// `audit` since the last look, the whole view is rebuilt; otherwise only the liveness of nodes
// that sent a heartbeat since (last_seen, load, reported_status) is read and applied in place
// — with thousands of nodes heartbeating, rebuilding everything every second would cost more
// than routing. Each heartbeat read also teaches the view the node's pace (heartbeat-pace.ts), so
// that a node silent for two beats leaves new choices long before NODE_TTL_S; the paces outlive
// each rebuilt view. A full rebuild also runs every FULL_RELOAD_MS, for edits made behind the admin
// API's back, and at once on a change where the server has change streams.
//
// A stored document routing cannot read is left out of the view and reported (refused), so one
// bad document never holds back every other change (routable-documents.ts); only a store that
// does not answer, or a configuration with nothing to route with, keeps the last view.
//
// When MongoDB is away the last good view keeps serving; the driver reconnects by itself and
// the next reload succeeds. Meanwhile no heartbeat can be read, so the view's liveness is
// frozen as of the last read (livenessFrozenAt): the nodes alive then stay eligible instead of
// all going stale NODE_TTL_S into the outage (Traffic Router keeps its last health states).
// The freeze outlasts the outage by livenessGraceMs (NODE_TTL_S in the gateway): nodes whose
// heartbeats failed while the store was away need that long to be heard from again.

import type { ChangeStream } from 'mongodb'
import { nodeProblem, partnerProblem } from '../balancing/document-problems.js'
import { NodeIndex, type Snapshot } from '../balancing/snapshot.js'
import { geoGroupProblem, type GeoGroupIndex } from '../geo/match-geo-group.js'
import type { NodeDoc } from '../store/documents.js'
import type { Collections } from '../store/mongo.js'
import { readInSlices } from '../store/read-in-slices.js'
import { createHeartbeatPaces, type HeartbeatPaces } from './heartbeat-pace.js'
import { buildRoutingView, createDocumentScreen, RoutingConfigError, type RefusedDocument } from './routable-documents.js'

export interface RoutingSnapshot {
  nodes: Snapshot
  geo: GeoGroupIndex
  loadedAt: number
  /** Bumped whenever node liveness is applied in place, so memos of choices know to forget. */
  livenessVersion: number
  /**
   * Set while MongoDB cannot be read: when (the clock's ms) liveness was last read. Node TTLs
   * are measured from it instead of from now until a read succeeds again.
   */
  livenessFrozenAt?: number
  /** The stored documents left out of this view, and why. */
  refused: readonly RefusedDocument[]
  /** The heartbeat paces learned so far, carried from view to view by the source. */
  paces: HeartbeatPaces
}

export interface RoutingSnapshotSource {
  /** The newest view; undefined until the first load succeeded. */
  current: () => RoutingSnapshot | undefined
  /**
   * Loads now, replacing the current view; rejects if MongoDB fails, or with a
   * RoutingConfigError when what it holds cannot be routed with at all (the view is kept).
   */
  refresh: () => Promise<RoutingSnapshot>
  /** Whether MongoDB answered the last read (a refused document or configuration is not a failure). */
  healthy: () => boolean
  /** The documents the last load that read MongoDB left out, and why. */
  refused: () => readonly RefusedDocument[]
  /** Why the newest configuration read is not routed with at all (the last view serves); undefined when it is. */
  configProblem: () => string | undefined
  /** When (the clock's ms) MongoDB was last read successfully (a full load or liveness); undefined if never. */
  readAt: () => number | undefined
  /** 'change-stream' once the server accepted a watch, else 'polling'. */
  mode: () => 'change-stream' | 'polling'
  close: () => Promise<void>
}

export interface RoutingSnapshotOptions {
  collections: Pick<Collections, 'nodes' | 'geoGroups' | 'partners' | 'audit'>
  refreshMs: number
  /** How long after MongoDB answers again node liveness stays frozen (ms); default 0. */
  livenessGraceMs?: number
  /** Watch for changes where MongoDB supports change streams (default true). */
  watch?: boolean
  now?: () => number
  onError?: (err: unknown) => void
  /** A document newly left out of the view: told once, not at every reload that leaves it out again. */
  onRefused?: (doc: RefusedDocument) => void
}

/** Changes arriving closer together than this share one reload (heartbeats come in floods). */
const CHANGE_DEBOUNCE_MS = 100
/** Heartbeats read per round trip when applying liveness. */
const LIVENESS_BATCH = 500
/** Node documents read per round trip in a full reload. */
const NODES_BATCH = 1000
/** The longest a change made outside the admin API waits to be seen. */
export const FULL_RELOAD_MS = 30_000

/** What a heartbeat writes: none of it is the admin's (`draining`, `enabled` are). */
export type NodeLiveness = Pick<NodeDoc, 'last_seen' | 'load' | 'reported_status'>

/**
 * Copies a heartbeat's fields into a snapshot's long-lived node document, changing its own
 * Date and load in place: old objects that never point at new ones keep young-generation
 * collections cheap while thousands of heartbeats a second are applied. A change without a
 * reported status leaves the one the document has.
 */
function copyLiveness (doc: NodeDoc, change: NodeLiveness): void {
  const seen = change.last_seen
  if (seen === null || doc.last_seen === null) doc.last_seen = seen
  else if (doc.last_seen.getTime() !== seen.getTime()) doc.last_seen.setTime(seen.getTime())
  const load = change.load
  if (typeof load !== 'object' || load === null || typeof doc.load !== 'object' || doc.load === null) {
    doc.load = load
  } else {
    if (doc.load.sessions !== load.sessions) doc.load.sessions = load.sessions
    if (doc.load.mbps !== load.mbps) doc.load.mbps = load.mbps
    if (doc.load.cpu !== load.cpu) doc.load.cpu = load.cpu
  }
  const status = change.reported_status
  if (status !== undefined && doc.reported_status !== status) doc.reported_status = status
}

/**
 * Applies one heartbeat to this replica's view alone, as applyLiveness would once the store
 * held it: for a beat the store could not take, so that the node stays eligible here through
 * the store's outage. False when the view does not know the node.
 */
export function applyBeatInPlace (snapshot: RoutingSnapshot, node: string, beat: NodeLiveness): boolean {
  const known = snapshot.nodes.nodesById.get(node)
  if (known === undefined) return false
  copyLiveness(known.doc, beat)
  snapshot.paces.observe(known)
  snapshot.livenessVersion++
  return true
}

/**
 * Applies the liveness of nodes heard from after `since` to the snapshot's node documents,
 * which selection reads live. Returns how many nodes were updated.
 */
export async function applyLiveness (collections: Pick<Collections, 'nodes'>, snapshot: RoutingSnapshot, since: Date): Promise<number> {
  // Batch by batch, so that with thousands of nodes heartbeating only one batch of decoded
  // documents is alive at a time: the young generation stays small and collections quick.
  // Requests routed between slices see the heartbeats applied so far; the version, which
  // makes memos of choices forget, moves once at the end (a memo lives a second at most).
  const changed = collections.nodes.find(
    { last_seen: { $gt: since } },
    { projection: { _id: 1, last_seen: 1, load: 1, reported_status: 1 }, batchSize: LIVENESS_BATCH }
  )
  let applied = 0
  await readInSlices(changed, (change) => {
    const node = snapshot.nodes.nodesById.get(change._id)
    if (node === undefined) return
    copyLiveness(node.doc, change)
    snapshot.paces.observe(node)
    applied++
  })
  if (applied > 0) snapshot.livenessVersion++
  return applied
}

async function latestAuditAt (collections: Pick<Collections, 'audit'>): Promise<number> {
  const [latest] = await collections.audit.find({}, { projection: { at: 1 } }).sort({ at: -1 }).limit(1).toArray()
  return latest?.at.getTime() ?? 0
}

/**
 * Reads nodes, geo groups and partners and builds the view from those routing can read (the
 * others are in `refused`). Rejects if MongoDB fails, or with a RoutingConfigError when no
 * geo group is left to route with.
 */
export async function loadRoutingSnapshot (
  collections: RoutingSnapshotOptions['collections'], nowMs: number, paces: HeartbeatPaces = createHeartbeatPaces({ refreshMs: 1000 })
): Promise<RoutingSnapshot> {
  // Each node is indexed as it is read, slice by slice: with thousands of nodes, indexing them
  // all at once after the read would hold every request for milliseconds.
  const screen = createDocumentScreen()
  const nodes = new NodeIndex()
  const [, groupDocs, partnerDocs] = await Promise.all([
    readInSlices(collections.nodes.find({}, { batchSize: NODES_BATCH }), (node) => {
      if (screen.admit('nodes', node, nodeProblem)) nodes.add(node)
    }),
    collections.geoGroups.find({}).toArray(),
    collections.partners.find({}).toArray()
  ])
  const groups = groupDocs.filter((group) => screen.admit('geo_groups', group, geoGroupProblem))
  const partners = partnerDocs.filter((partner) => screen.admit('partners', partner, partnerProblem))
  const view = buildRoutingView({ nodes, groups, partners }, screen.refused)
  // The paces outlive the view: a reload must not forget how fast each node beats.
  for (const node of nodes.nodesById.values()) paces.observe(node)
  return { ...view, loadedAt: nowMs, livenessVersion: 0, refused: screen.refused, paces }
}

export function createRoutingSnapshotSource (options: RoutingSnapshotOptions): RoutingSnapshotSource {
  const now = options.now ?? Date.now
  const paces = createHeartbeatPaces({ refreshMs: options.refreshMs })
  let snapshot: RoutingSnapshot | undefined
  let ok = false
  let loading: Promise<RoutingSnapshot> | undefined
  /** The load that starts when the one under way ends, shared by every refresh asked meanwhile. */
  let following: Promise<RoutingSnapshot> | undefined
  let closed = false
  const streams: ChangeStream[] = []
  let debounce: NodeJS.Timeout | undefined
  let auditAt = 0
  let livenessAt = 0
  /** When the last load that read MongoDB started, whether or not its view was taken. */
  let attemptedAt = 0
  let configProblem: string | undefined
  let refused: readonly RefusedDocument[] = []

  async function tick (): Promise<void> {
    const current = snapshot
    const at = now()
    const latest = await latestAuditAt(options.collections)
    // A configuration refused as a whole is read again on the next change (or full reload),
    // not at every tick: it stays refused until someone changes it.
    const due = latest > auditAt || at - attemptedAt >= FULL_RELOAD_MS
    if (due || (current === undefined && configProblem === undefined)) {
      await refresh()
      return
    }
    if (current === undefined) {
      readOk()
      return
    }
    // A heartbeat written just before the last look may have become visible just after it.
    await applyLiveness(options.collections, current, new Date(livenessAt - options.refreshMs))
    livenessAt = at
    readOk()
  }

  let frozenAt: number | undefined
  let thawAt: number | undefined

  function readOk (): void {
    ok = true
    if (frozenAt !== undefined) {
      thawAt ??= now() + (options.livenessGraceMs ?? 0)
      if (now() >= thawAt) {
        frozenAt = undefined
        thawAt = undefined
      }
    }
    if (snapshot === undefined) return
    if (frozenAt === undefined) delete snapshot.livenessFrozenAt
    else snapshot.livenessFrozenAt = frozenAt
  }

  function readFailed (): void {
    ok = false
    thawAt = undefined
    if (snapshot === undefined) return
    frozenAt ??= livenessAt
    snapshot.livenessFrozenAt = frozenAt
  }

  /** Tells of documents the last view did not already leave out. */
  function noteRefused (next: readonly RefusedDocument[]): void {
    const known = new Set(refused.map((doc) => `${doc.collection}\0${doc.id}\0${doc.reason}`))
    refused = next
    for (const doc of next) {
      if (!known.has(`${doc.collection}\0${doc.id}\0${doc.reason}`)) options.onRefused?.(doc)
    }
  }

  /** The store answered: the view was built, or the configuration was refused whole. */
  function loaded (started: number, latest: number, next: RoutingSnapshot | RoutingConfigError): RoutingSnapshot {
    attemptedAt = started
    auditAt = latest
    noteRefused(next.refused)
    if (next instanceof RoutingConfigError) {
      configProblem = next.message
      readOk()
      throw next
    }
    configProblem = undefined
    snapshot = next
    livenessAt = started
    readOk()
    return next
  }

  function refresh (): Promise<RoutingSnapshot> {
    if (loading !== undefined) {
      // A change made during a load may be missed by it: whoever asks now gets the load after
      // it, which cannot miss the change (one follow-up however many ask meanwhile).
      following ??= loading.then(() => undefined, () => undefined).then(() => {
        following = undefined
        // Closed meanwhile: nothing reads the store any more.
        return closed && snapshot !== undefined ? snapshot : refresh()
      })
      return following
    }
    const started = now()
    const next = loadRoutingSnapshot(options.collections, started, paces).catch((err: unknown) => {
      if (err instanceof RoutingConfigError) return err
      throw err
    })
    loading = Promise.all([latestAuditAt(options.collections), next]).then(
      ([latest, view]) => loaded(started, latest, view),
      (err: unknown) => { readFailed(); throw err }
    ).finally(() => { loading = undefined })
    return loading
  }

  function onChange (): void {
    if (debounce !== undefined || closed) return
    debounce = setTimeout(() => {
      debounce = undefined
      refresh().catch((err: unknown) => options.onError?.(err))
    }, CHANGE_DEBOUNCE_MS)
    debounce.unref()
  }

  function watchAll (): void {
    for (const collection of [options.collections.nodes, options.collections.geoGroups, options.collections.partners] as const) {
      const stream = (collection as Collections['nodes']).watch([], { fullDocument: 'default' })
      stream.on('change', onChange)
      // A server without change streams (or a lost one) leaves polling in charge.
      stream.on('error', (err: unknown) => {
        const i = streams.indexOf(stream)
        if (i >= 0) streams.splice(i, 1)
        void stream.close().catch(() => {})
        if (!closed && !/changeStream|not supported|unsupported|replica set/i.test(String((err as Error).message))) options.onError?.(err)
      })
      streams.push(stream)
    }
  }

  if (options.watch ?? true) watchAll()
  let ticking = false
  const timer = setInterval(() => {
    if (ticking) return
    ticking = true
    tick().catch((err: unknown) => {
      if (!(err instanceof RoutingConfigError)) readFailed()
      options.onError?.(err)
    }).finally(() => { ticking = false })
  }, options.refreshMs)
  timer.unref()

  return {
    current: () => snapshot,
    refresh,
    healthy: () => ok,
    refused: () => refused,
    configProblem: () => configProblem,
    readAt: () => snapshot === undefined ? undefined : livenessAt,
    mode: () => streams.length > 0 ? 'change-stream' : 'polling',
    async close () {
      closed = true
      clearInterval(timer)
      if (debounce !== undefined) clearTimeout(debounce)
      await Promise.allSettled(streams.map((s) => s.close()))
    }
  }
}
