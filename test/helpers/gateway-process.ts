// A gateway in a child process of its own, run with --expose-gc, for tests that measure what
// it holds: `createGateway` as `geogate gateway` builds it, plus one hook over IPC that collects
// garbage and answers the heap used. The config comes from the parent, as JSON.

import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import type { Config } from '../../src/config.js'
import { compiledTests, repoRoot as root } from './repo-root.js'

// Compiled beside this file in test-build/, else the TypeScript under tsx.
const entry = fileURLToPath(new URL(`./gateway-process-entry.${compiledTests ? 'js' : 'ts'}`, import.meta.url))

export interface GatewayProcess {
  url: string
  child: ChildProcess
  /** The child's heap after full garbage collections (bytes). */
  heapAfterGc: () => Promise<number>
}

export async function startGatewayProcess (t: Test, config: Config, store: { url: string, database: string }): Promise<GatewayProcess> {
  const child = fork(entry, [], {
    cwd: root,
    execArgv: ['--expose-gc', ...(compiledTests ? [] : ['--import', 'tsx'])],
    env: { ...process.env, GEOGATE_TEST_GATEWAY: JSON.stringify({ config, store: { url: store.url, database: store.database } }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  t.teardown(() => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  }))
  const replies: Array<(message: { url?: string, heapUsed?: number }) => void> = []
  child.on('message', (message: { url?: string, heapUsed?: number }) => replies.shift()?.(message))
  const next = (): Promise<{ url?: string, heapUsed?: number }> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the gateway process did not answer')), 60_000)
    child.once('exit', (code) => reject(new Error(`the gateway process exited with ${String(code)}`)))
    replies.push((message) => { clearTimeout(timer); resolve(message) })
  })
  const { url } = await next()
  return {
    url: url as string,
    child,
    async heapAfterGc () {
      const reply = next()
      child.send('heap')
      return (await reply).heapUsed as number
    }
  }
}
