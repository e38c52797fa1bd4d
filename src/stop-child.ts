// Stopping a child process: SIGTERM, then SIGKILL if it has not exited within graceMs.

import type { ChildProcess } from 'node:child_process'

export function stopChild (child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs)
    child.once('exit', () => { clearTimeout(force); resolve() })
    child.kill('SIGTERM')
  })
}
