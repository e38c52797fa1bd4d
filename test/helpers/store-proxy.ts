// A TCP proxy in front of a store, to make it misbehave under a running gateway: 'pass'
// forwards, 'blackhole' keeps accepting connections (old and new) and never answers, as a
// stalled network or a hung primary does.

import net from 'node:net'
import type { Test } from 'tap'

export interface StoreProxy {
  /** A MongoDB URL through the proxy. */
  url: (database: string) => string
  mode: (mode: 'pass' | 'blackhole') => void
}

export async function startStoreProxy (t: Test, target: { host: string, port: number }): Promise<StoreProxy> {
  let blackhole = false
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host)
    sockets.add(client)
    sockets.add(upstream)
    const forget = (): void => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream) }
    client.on('error', forget).on('close', forget)
    upstream.on('error', forget).on('close', forget)
    client.on('data', (chunk) => { if (!blackhole) upstream.write(chunk) })
    upstream.on('data', (chunk) => { if (!blackhole) client.write(chunk) })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  const { port } = server.address() as net.AddressInfo
  return {
    url: (database) => `mongodb://127.0.0.1:${port}/${database}?directConnection=true`,
    mode: (mode) => { blackhole = mode === 'blackhole' }
  }
}
