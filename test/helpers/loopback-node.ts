// A streaming node on this machine, as the end-to-end tests run it: in a geo group of its own
// that every loopback client matches, registered in the store with its key, kept alive by a
// heartbeat of its own, and known to the gateway (and to other replicas, told as an admin
// write would tell them) before the test asks for it.

import type { Test } from 'tap'
import { hashToken } from '../../src/auth/token-hash.js'
import { streamingNode } from '../../src/demo/demo-data.js'
import type { NodeDoc } from '../../src/store/documents.js'
import type { TestSystem } from './system.js'

export const LOOPBACK_GROUP = 'loopback'

/** The geo group of loopback clients, created once per store. */
export async function ensureLoopbackGroup (system: TestSystem): Promise<void> {
  const groups = system.store.collections.geoGroups
  if (await groups.findOne({ _id: LOOPBACK_GROUP }) !== null) return
  await groups.insertOne({
    _id: LOOPBACK_GROUP,
    name: 'Loopback clients',
    coordinates: { lat: 0, lon: 0 },
    match: { countries: [], regions: [], cities: [], cidrs: ['127.0.0.0/8'] },
    fallback: { groups: [], to_closest: false, limit: 0 },
    default: false
  }).catch((err: unknown) => {
    // Nodes registered together: one of them created it.
    if ((err as { code?: unknown }).code !== 11000) throw err
  })
}

export interface LoopbackNodeSpec {
  id: string
  port: number
  key: string
  /** Fields beyond the defaults: formats, control, capacity… */
  fields?: Partial<NodeDoc>
  /** How often it beats (ms); default 2000. */
  beatEveryMs?: number
}

export interface LoopbackNode {
  /** Beats now, then every beatEveryMs until stopped (the test's teardown stops it too). */
  startBeating: () => void
  stopBeating: () => void
}

/** Registers the node (in the loopback group) and starts its heartbeat; the gateway knows it on return. */
export async function registerLoopbackNode (t: Test, system: TestSystem, spec: LoopbackNodeSpec): Promise<LoopbackNode> {
  await ensureLoopbackGroup(system)
  const { nodes, audit } = system.store.collections
  await nodes.insertOne(streamingNode({
    _id: spec.id,
    host: '127.0.0.1',
    port: spec.port,
    tls: false,
    group: LOOPBACK_GROUP,
    weight: 1,
    capacity: { sessions: 100 },
    key_hash: hashToken(spec.key),
    last_seen: new Date(),
    ...spec.fields
  }))
  let timer: NodeJS.Timeout | undefined
  const beat = (): void => { nodes.updateOne({ _id: spec.id }, { $set: { last_seen: new Date() } }).catch(() => {}) }
  const node: LoopbackNode = {
    startBeating () {
      clearInterval(timer)
      beat()
      timer = setInterval(beat, spec.beatEveryMs ?? 2000)
    },
    stopBeating () { clearInterval(timer) }
  }
  node.startBeating()
  t.teardown(node.stopBeating)
  // As an admin write would, tell every replica's snapshot that the nodes changed.
  await audit.insertOne({ at: new Date(), actor: 'test', action: 'create', collection: 'nodes', id: spec.id, before: null, after: null })
  await system.gateway.refreshSnapshot()
  return node
}
