// While the store is known to be down, a ping now and then finds it back: the first answer
// closes the breaker (StoreHealth), so queries on clients' requests go to the store again.
// For a process with no background reads of its own to serve as probes (the auth-server);
// the gateway's routing snapshot reload plays this part there.

import type { QueryGuard } from './guarded-collections.js'
import type { StoreHealth } from './store-health.js'

export interface StoreProbeOptions {
  health: StoreHealth
  /** A guard made with probe: true, so that it asks the store even while it is down. */
  guard: QueryGuard
  /** A cheap command the store answers when it is up (MongoDB's ping). */
  ping: () => Promise<unknown>
  /** How often to try while down (ms); default 1000. */
  intervalMs?: number
}

export function probeWhileDown (options: StoreProbeOptions): { stop: () => void } {
  let probing = false
  const timer = setInterval(() => {
    if (probing || options.health.state() !== 'down') return
    probing = true
    options.guard.run(options.ping)
      .catch(() => {}) // still down: the guard has counted it
      .finally(() => { probing = false })
  }, options.intervalMs ?? 1000)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
