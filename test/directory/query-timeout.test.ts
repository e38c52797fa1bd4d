// MONGODB_QUERY_TIMEOUT_MS bounds the queries on a client's request path: the server record and
// the account's limits are read with that deadline (the driver sends it as maxTimeMS).

import t from 'tap'
import type { CommandStartedEvent } from 'mongodb'
import { createBillingChecker } from '../../src/billing/check-limits.js'
import { createServerDirectory } from '../../src/directory/server-directory.js'
import { seedDemoData } from '../../src/demo/seed.js'
import { startTestStore } from '../helpers/store.js'

const store = await startTestStore(t)
await seedDemoData(store.collections)

/** The maxTimeMS of every command on collection sent while run runs. */
async function maxTimes (collection: string, run: () => Promise<unknown>): Promise<number[]> {
  const seen: number[] = []
  const listener = (event: CommandStartedEvent): void => {
    const command = event.command as Record<string, unknown>
    if (command.find === collection || command.aggregate === collection) seen.push(Number(command.maxTimeMS))
  }
  store.client.on('commandStarted', listener)
  try {
    await run()
  } finally {
    store.client.off('commandStarted', listener)
  }
  return seen
}

t.test('the server directory reads with the configured deadline, 1 s by default', async (t) => {
  const bounded = createServerDirectory({ servers: store.collections.servers, cacheTtlMs: 1000, queryTimeoutMs: 250 })
  const [short] = await maxTimes('servers', () => bounded.requireOnlineCamera('UIN-DEMO-1', 'cam-1'))
  t.ok(short !== undefined && short > 0 && short <= 250, `maxTimeMS ${String(short)} within 250 ms`)

  const plain = createServerDirectory({ servers: store.collections.servers, cacheTtlMs: 1000 })
  const [long] = await maxTimes('servers', () => plain.requireOnlineCamera('UIN-DEMO-1', 'cam-1'))
  t.ok(long !== undefined && long > 250 && long <= 1000, `maxTimeMS ${String(long)} within the default 1000 ms`)
})

t.test('the billing check reads the account and its tariff with the configured deadline', async (t) => {
  const billing = createBillingChecker({ collections: store.collections, cacheTtlMs: 1000, queryTimeoutMs: 300 })
  const accounts = await maxTimes('accounts', () => billing.checkLimits('acct-demo', { format: 'flv', pattern: 'streaming' }))
  t.equal(accounts.length, 1)
  t.ok(accounts.every((ms) => ms > 0 && ms <= 300), `maxTimeMS ${accounts.join(', ')} within 300 ms`)
})
