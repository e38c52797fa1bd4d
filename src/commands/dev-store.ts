// What `geogate dev` adds to its gateway for the embedded store it keeps (src/store/kept-store.ts):
//
// - An admin write is answered 2xx only once it is in the data directory. The answer waits for a
//   save that began after the write, made from the store process that took it; when that store
//   died first, the write was not kept and the answer is 503 GW_DEPENDENCY_DOWN instead (with a
//   debounced save after the answer, a write acknowledged just before a kill was lost).
// - Node liveness survives a restart. The data directory has each node's last heartbeat as of the
//   last save, which may be minutes old: a store refilled from it alone would make every node
//   look silent to the gateway until its next heartbeat (no node to route to). The gateway's
//   heartbeats are remembered here and written into a refilled store before clients reach it.

import type { FastifyInstance, FastifyRequest } from 'fastify'
import { gatewayError } from '../errors.js'
import type { HeartbeatBody } from '../handlers/node/heartbeat-route.js'
import type { NodeDoc } from '../store/documents.js'
import type { KeptStore } from '../store/kept-store.js'
import type { Collections } from '../store/mongo.js'

const HEARTBEAT_ROUTE = '/api/v1/nodes/:id/heartbeat'

/** Writes through the admin API: heartbeats are liveness, not edits, and are not saved one by one. */
function isAdminWrite (request: FastifyRequest): boolean {
  if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return false
  const route = request.routeOptions.url ?? ''
  return route.startsWith('/api/v1/') && route !== HEARTBEAT_ROUTE
}

/** Holds back the success answer of every admin write until the write is saved. */
export function answerAdminWritesOnceKept (app: FastifyInstance, kept: Pick<KeptStore, 'generation' | 'commit'>): void {
  // Which store process was taking clients when the request arrived; a write made on it is kept
  // by a save made from it.
  const began = new WeakMap<FastifyRequest, number>()
  app.addHook('onRequest', async (request) => {
    if (isAdminWrite(request)) began.set(request, kept.generation())
  })
  app.addHook('onSend', async (request, reply, payload) => {
    const generation = began.get(request)
    // Once only: the error answer below comes back through this hook.
    began.delete(request)
    if (generation === undefined || reply.statusCode >= 400) return payload
    try {
      await kept.commit(generation)
    } catch (err) {
      reply.removeHeader('location')
      throw gatewayError('GW_DEPENDENCY_DOWN', 'the embedded store restarted before this write was saved; it may not have been kept: read it back or send it again', { cause: err })
    }
    return payload
  })
}

export interface LivenessRecord {
  /** Remembers every heartbeat the app accepts. */
  record: (app: FastifyInstance) => void
  /** Writes the remembered liveness into a store refilled from the data directory. */
  replay: (nodes: Collections['nodes']) => Promise<void>
}

export function createLivenessRecord (): LivenessRecord {
  const beats = new Map<string, Pick<NodeDoc, 'last_seen' | 'load'>>()
  return {
    record (app) {
      app.addHook('onResponse', async (request, reply) => {
        if (reply.statusCode !== 200 || request.method !== 'POST' || request.routeOptions.url !== HEARTBEAT_ROUTE) return
        const { id } = request.params as { id: string }
        const { sessions, mbps, cpu } = request.body as HeartbeatBody
        beats.set(id, { last_seen: new Date(), load: { sessions, mbps, cpu } })
      })
    },
    async replay (nodes) {
      // Only liveness: draining is an operator's word as much as a node's, and the next
      // heartbeat restates it.
      await Promise.all([...beats].map(async ([id, beat]) => await nodes.updateOne({ _id: id }, { $set: beat })))
    }
  }
}
