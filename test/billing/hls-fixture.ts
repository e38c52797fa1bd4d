// The store and account the HLS session tests share: a tariff for HLS with a limit, an active
// account on it, the billing collections admissions use, and a clock the tests move.

import type { CommandStartedEvent } from 'mongodb'
import type { Test } from 'tap'
import type { AdmissionCollections } from '../../src/billing/admit-session.js'
import { sessionCollectionsOf } from '../../src/billing/sessions.js'
import { startTestStore, type TestStore } from '../helpers/store.js'

export interface HlsFixture {
  store: TestStore
  billing: AdmissionCollections
}

/** A store with tariff `tariff` (HLS, `limit` concurrent streams) and account `account` on it. */
export async function startHlsFixture (t: Test, tariff: string, account: string, limit: number): Promise<HlsFixture> {
  const store = await startTestStore(t)
  const billing: AdmissionCollections = { accounts: store.collections.accounts, tariffs: store.collections.tariffs, ...sessionCollectionsOf(store.collections) }
  await store.collections.tariffs.insertOne({ _id: tariff, formats: ['hls'], patterns: ['streaming'], max_concurrent_streams: limit })
  await store.collections.accounts.insertOne({ _id: account, tariff, status: 'active' })
  return { store, billing }
}

/** The first clock of these tests: a fixed instant, so that the tests can name every time. */
export const START = Date.parse('2030-01-01T00:00:00Z')

/** The store commands run while fn runs, by name. */
export async function countCommands (store: TestStore, fn: () => Promise<void>): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  const listener = (event: CommandStartedEvent): void => { counts[event.commandName] = (counts[event.commandName] ?? 0) + 1 }
  store.client.on('commandStarted', listener)
  try { await fn() } finally { store.client.off('commandStarted', listener) }
  return counts
}
