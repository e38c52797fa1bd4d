// A TCP proxy in front of a store, to make it misbehave under a running gateway: 'pass'
// forwards, 'blackhole' keeps accepting connections (old and new) and never answers, as a
// stalled network or a hung primary does; 'slow' answers, each chunk the store sends held back
// by a delay (in order), as a store busy with a large write does: its commands still run.

import net from 'node:net'
import type { Test } from 'tap'

export interface StoreProxy {
  /** A MongoDB URL through the proxy. */
  url: (database: string) => string
  /** delayMs: for 'slow', how long each chunk from the store is held back. */
  mode: (mode: 'pass' | 'blackhole' | 'slow', delayMs?: number) => void
}

export async function startStoreProxy (t: Test, target: { host: string, port: number }): Promise<StoreProxy> {
  let blackhole = false
  let delayMs = 0
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host)
    sockets.add(client)
    sockets.add(upstream)
    // Chunks held back, in the order the store sent them: one timer releases them in turn.
    const held: Array<{ chunk: Buffer, at: number }> = []
    let releasing: NodeJS.Timeout | undefined
    const release = (): void => {
      releasing = undefined
      let next = held[0]
      for (; next !== undefined && next.at <= Date.now(); next = held[0]) {
        held.shift()
        client.write(next.chunk)
      }
      if (next !== undefined) releasing = setTimeout(release, next.at - Date.now())
    }
    const forget = (): void => { clearTimeout(releasing); client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream) }
    client.on('error', forget).on('close', forget)
    upstream.on('error', forget).on('close', forget)
    client.on('data', (chunk) => { if (!blackhole) upstream.write(chunk) })
    upstream.on('data', (chunk: Buffer) => {
      if (blackhole) return
      if (delayMs === 0 && held.length === 0) {
        client.write(chunk)
        return
      }
      held.push({ chunk, at: Date.now() + delayMs })
      releasing ??= setTimeout(release, delayMs)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  const { port } = server.address() as net.AddressInfo
  return {
    url: (database) => `mongodb://127.0.0.1:${port}/${database}?directConnection=true`,
    mode: (mode, delay = 0) => {
      blackhole = mode === 'blackhole'
      delayMs = mode === 'slow' ? delay : 0
    }
  }
}
