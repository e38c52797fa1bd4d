// Seeds the demo data. Idempotent: a document that exists is left as it is, so edits made
// through the admin API survive a restart.

import type { Collection, Document } from 'mongodb'
import {
  demoAccounts, demoGeoGroups, demoNodes, demoPartners, demoServers, demoTariffs, demoTokenDocs
} from './demo-data.js'
import type { Collections } from '../store/mongo.js'

async function insertMissing<T extends Document & { _id: string }> (collection: Collection<T>, docs: T[]): Promise<number> {
  let inserted = 0
  for (const doc of docs) {
    const { _id, ...rest } = doc
    const result = await collection.updateOne(
      { _id } as never,
      { $setOnInsert: rest as unknown as Partial<T> },
      { upsert: true }
    )
    inserted += result.upsertedCount
  }
  return inserted
}

export async function seedDemoData (collections: Collections): Promise<number> {
  const counts = await Promise.all([
    insertMissing(collections.geoGroups, demoGeoGroups),
    insertMissing(collections.nodes, demoNodes),
    insertMissing(collections.partners, demoPartners),
    insertMissing(collections.servers, demoServers),
    insertMissing(collections.tariffs, demoTariffs),
    insertMissing(collections.accounts, demoAccounts),
    insertMissing(collections.tokens, demoTokenDocs)
  ])
  return counts.reduce((a, b) => a + b, 0)
}
