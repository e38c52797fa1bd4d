// Video servers and their cameras, from MongoDB, cached briefly: unknown → 404, offline → 503.

import { createCachedLookup, type Cached } from '../cache/cached-lookup.js'
import { storeUnreachable } from '../store/stale-if-error.js'
import { gatewayError } from '../errors.js'
import type { ServerDoc } from '../store/documents.js'
import { REQUEST_QUERY_TIMEOUT_MS, type Collections } from '../store/mongo.js'
import { withinDeadline } from '../store/query-deadline.js'

export interface ServerDirectoryOptions {
  servers: Collections['servers']
  cacheTtlMs: number
  cacheMax?: number
  /** The longest the query may take (ms); default REQUEST_QUERY_TIMEOUT_MS. */
  queryTimeoutMs?: number
  /**
   * How long past its TTL (ms) a cached answer keeps answering while MongoDB is unreachable;
   * default an hour (STALE_IF_ERROR_MS), 0: not at all.
   */
  staleIfErrorMs?: number
  now?: () => number
}

export interface ServerDirectory {
  /** The server, after checking that it and the camera exist and are online. */
  requireOnlineCamera: (serverId: string, cameraId: string) => Promise<ServerDoc>
  /** The same check from the cache alone: the server, why not, or undefined when it is not cached. */
  peekOnlineCamera: (serverId: string, cameraId: string) => Cached<ServerDoc> | undefined
  /**
   * The server's record (null: none) without checking anything, for checks that follow a play
   * already let in (a camera's geo rule at /verify): the cached record, or the last one kept past
   * its TTL while a reload runs in the background; undefined when nothing is kept.
   */
  peekServer: (serverId: string) => Cached<{ doc: ServerDoc | null }> | undefined
  /** The record as peekServer knows it, loaded when nothing is kept. */
  loadServer: (serverId: string) => Promise<{ doc: ServerDoc | null }>
  /** How many server records answer from cache past their TTL because MongoDB is unreachable. */
  staleCount: () => number
}

type Found = { doc: ServerDoc | null }

export function checkCamera (server: ServerDoc | null, serverId: string, cameraId: string): ServerDoc {
  if (server === null) throw gatewayError('GW_SERVER_NOT_FOUND', `no video server ${serverId}`)
  const camera = Object.hasOwn(server.cameras, cameraId) ? server.cameras[cameraId] : undefined
  if (camera === undefined) throw gatewayError('GW_CAMERA_NOT_FOUND', `video server ${serverId} has no camera ${cameraId}`)
  if (!server.online) throw gatewayError('GW_SERVER_OFFLINE', `video server ${serverId} is offline`)
  if (!camera.online) throw gatewayError('GW_CAMERA_OFFLINE', `camera ${cameraId} is offline`)
  return server
}

export function createServerDirectory (options: ServerDirectoryOptions): ServerDirectory {
  const queryTimeoutMs = options.queryTimeoutMs ?? REQUEST_QUERY_TIMEOUT_MS
  const staleIfError = storeUnreachable(options.staleIfErrorMs)
  const cache = createCachedLookup<string, Found>(
    async (id) => {
      try {
        return { doc: await withinDeadline(queryTimeoutMs, async (bound) => await options.servers.findOne({ _id: id }, bound)) }
      } catch (err) {
        throw gatewayError('GW_DEPENDENCY_DOWN', 'the server directory is unreachable', { cause: err })
      }
    },
    {
      max: options.cacheMax ?? 50_000,
      ttlFor: () => options.cacheTtlMs,
      ...(options.now !== undefined && { now: options.now }),
      ...(staleIfError !== undefined && { staleIfError })
    }
  )
  return {
    async requireOnlineCamera (serverId, cameraId) {
      return checkCamera((await cache.get(serverId)).doc, serverId, cameraId)
    },
    peekOnlineCamera (serverId, cameraId) {
      const hit = cache.peek(serverId)
      if (hit === undefined || !('value' in hit)) return hit
      try {
        return { value: checkCamera(hit.value.doc, serverId, cameraId) }
      } catch (error) {
        return { error }
      }
    },
    peekServer: (serverId) => cache.peekLatest(serverId),
    loadServer: (serverId) => cache.get(serverId),
    staleCount: () => cache.staleCount
  }
}
