// Upstream clients for destinations learnt at run time (nodes' control URLs, partners' webhook
// origins): one client per destination, created on first use, at most `max` kept. The least
// recently used one that has nothing in flight makes room (else the least recently used);
// it is closed gracefully, so what it has in flight finishes, and it is still destroyed by a
// hard close of the pool until then.

import type { UpstreamClient } from './upstream-client.js'

export interface UpstreamClientPoolOptions {
  /** Most clients kept at once. */
  max: number
  /** The client for a destination not kept yet. */
  make: (key: string) => UpstreamClient
  /** Whether the destination's client has calls in flight (default: never). */
  busy?: (key: string) => boolean
}

export interface UpstreamClientPool {
  /** The destination's client, made when it is not kept. */
  get: (key: string) => UpstreamClient
  /** Closes every client: 'close' lets calls in flight finish, 'destroy' abandons them. */
  close: (how: 'close' | 'destroy') => Promise<void>
  readonly size: number
}

export function createUpstreamClientPool (options: UpstreamClientPoolOptions): UpstreamClientPool {
  // A Map keeps insertion order: the first key is the least recently used.
  const clients = new Map<string, UpstreamClient>()
  /** Clients closed to make room, until their calls in flight are over. */
  const evicted = new Set<UpstreamClient>()

  function makeRoom (): void {
    const keys = [...clients.keys()]
    const victim = keys.find((key) => options.busy?.(key) !== true) ?? keys[0]
    if (victim === undefined) return
    const old = clients.get(victim) as UpstreamClient
    clients.delete(victim)
    evicted.add(old)
    old.close().catch(() => {}).finally(() => evicted.delete(old))
  }

  return {
    get (key) {
      const kept = clients.get(key)
      if (kept !== undefined) {
        clients.delete(key)
        clients.set(key, kept)
        return kept
      }
      if (clients.size >= options.max) makeRoom()
      const client = options.make(key)
      clients.set(key, client)
      return client
    },
    async close (how) {
      const all = [...clients.values(), ...evicted]
      clients.clear()
      await Promise.allSettled(all.map(async (client) => { await (how === 'destroy' ? client.destroy() : client.close()) }))
    },
    get size () { return clients.size }
  }
}
