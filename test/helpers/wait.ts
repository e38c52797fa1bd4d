// What tests wait on instead of fixed sleeps, and a free loopback port for a process that
// cannot be given port 0.

import net from 'node:net'

/** Polls `what` every `everyMs` until it holds, for at most `ms`; whether it came to hold. */
export async function until (what: () => Promise<boolean> | boolean, ms: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await what()) return true
    if (Date.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

/** A loopback port free as of now (another process may take it before it is used). */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => { typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')) })
    })
  })
}
