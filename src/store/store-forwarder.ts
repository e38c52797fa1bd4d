// The embedded store's one address for `geogate dev`: a TCP forwarder on a port that outlives
// the store process. The gateway, the auth-server and anything else dev prints the URL to
// connect here, never to a store process's own port. When a store process dies, a new one
// starts on a port of its own and is refilled from the data directory over a connection of
// its own; meanwhile the forwarder has cut every connection to the dead one and holds new
// connections unanswered, and only once the refill is done does it forward them. A client
// therefore never reads the empty store a restart begins with (a store restarted on the same
// port took clients at once: the gateway read no nodes and no servers, and answered 503 and
// 404 to requests it had answered a moment before).
//
// Held rather than refused: the MongoDB driver waits on a held connection (up to its connect
// timeout) and is answered as soon as the store is back, where a refused one sends it into
// its reconnect back-off. A request-path query still gives up at MONGODB_QUERY_TIMEOUT_MS.

import net from 'node:net'

export interface StoreForwarder {
  /** The port clients connect to. */
  port: number
  /** Cuts every forwarded connection and holds new ones, until forwardTo. */
  hold: () => void
  /** Forwards the held connections and every new one to this port of the forwarder's host. */
  forwardTo: (port: number) => void
  /** Stops accepting and ends every connection, held or forwarded. */
  close: () => Promise<void>
}

/**
 * Ends a client's connection with a reset, not a FIN. A FIN half-closes the driver's socket,
 * and a command the driver writes on it before it has seen the close waits for a 'drain' that
 * never comes (MongoDB driver 7): the server monitor's check hung that way, and with it every
 * query of the process, for good. After a reset the write fails and the command with it.
 */
function cut (socket: net.Socket): void {
  if (socket.destroyed) return
  // A reset needs a connected socket whose sending side is still open.
  if (socket.connecting || socket.writableEnded || socket.readyState !== 'open') socket.destroy()
  else socket.resetAndDestroy()
}

/** How soon a connection the store refused is tried again, if dev has not yet found the store dead. */
const REFUSED_RETRY_MS = 50

export async function startStoreForwarder (host: string, port = 0): Promise<StoreForwarder> {
  let target: number | undefined
  let closed = false
  let closing: Promise<void> | undefined
  const held = new Set<net.Socket>()
  const forwarded = new Set<net.Socket>()

  function forward (client: net.Socket, to: number): void {
    const store = net.connect(to, host)
    let state: 'connecting' | 'piped' | 'done' = 'connecting'
    forwarded.add(client)
    forwarded.add(store)
    const untrack = (): void => {
      forwarded.delete(client)
      forwarded.delete(store)
      client.removeListener('error', end).removeListener('close', end)
    }
    function end (): void {
      if (state === 'done') return
      state = 'done'
      untrack()
      cut(client)
      store.destroy()
    }
    client.on('error', end).on('close', end)
    store.on('close', end)
    store.on('error', (err: NodeJS.ErrnoException) => {
      if (state !== 'connecting' || err.code !== 'ECONNREFUSED') return end()
      // Refused: the store has died and dev has not seen it yet. The client has sent it nothing
      // (its first bytes wait in the paused socket), so it may as well wait for the next store.
      state = 'done'
      untrack()
      store.destroy()
      wait(client, REFUSED_RETRY_MS)
    })
    store.once('connect', () => {
      if (state !== 'connecting') return
      state = 'piped'
      // Not ended by the pipes: a connection ends with a reset (cut), never a FIN.
      client.pipe(store, { end: false })
      store.pipe(client, { end: false })
    })
  }

  /** Holds a client until forwardTo, or until retryMs when there is a store to try again. */
  function wait (client: net.Socket, retryMs?: number): void {
    if (closed) {
      client.destroy()
      return
    }
    held.add(client)
    const forget = (): void => { held.delete(client); client.destroy() }
    client.on('error', forget).on('close', forget)
    if (retryMs === undefined) return
    setTimeout(() => {
      if (!held.has(client) || target === undefined) return
      held.delete(client)
      client.removeListener('error', forget).removeListener('close', forget)
      forward(client, target)
    }, retryMs).unref()
  }

  function admit (client: net.Socket): void {
    if (closed) client.destroy()
    else if (target !== undefined) forward(client, target)
    else wait(client)
  }

  const server = net.createServer({ pauseOnConnect: true, noDelay: true }, admit)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.off('error', reject); resolve() })
  })
  return {
    port: (server.address() as net.AddressInfo).port,
    hold () {
      target = undefined
      for (const socket of forwarded) cut(socket)
    },
    forwardTo (to) {
      target = to
      for (const client of held) {
        held.delete(client)
        client.removeAllListeners('error').removeAllListeners('close')
        forward(client, to)
      }
    },
    close () {
      if (closing === undefined) {
        closed = true
        target = undefined
        closing = new Promise<void>((resolve) => server.close(() => resolve()))
        for (const socket of [...held, ...forwarded]) socket.destroy()
      }
      return closing
    }
  }
}
