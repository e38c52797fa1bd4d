// The auth-server's token collection for the bench, in memory. The embedded store scans a
// collection to find a document by _id (about 12 ms at 22,000 documents) and slows down as it
// grows, so the 200,000 tokens of the cold scenario cannot live there; MongoDB finds them
// through its _id index. This object answers the one query the auth-server makes
// (authorizeToken: findOne by _id) from a Map, asynchronously like a driver call, so the real
// auth-server app runs on top of it.

import type { Collection } from 'mongodb'
import type { TokenDoc } from '../../src/store/documents.js'

export function memoryTokenCollection (docs: Iterable<TokenDoc>): Collection<TokenDoc> {
  const byId = new Map<string, TokenDoc>()
  for (const doc of docs) byId.set(doc._id, doc)
  const tokens = {
    async findOne (filter: { _id?: unknown }): Promise<TokenDoc | null> {
      if (typeof filter._id !== 'string') throw new TypeError('the bench token collection answers findOne by _id only')
      return byId.get(filter._id) ?? null
    },
    find (filter: { _id?: { $in?: unknown } }): { toArray: () => Promise<TokenDoc[]> } {
      const ids = filter._id?.$in
      if (!Array.isArray(ids)) throw new TypeError('the bench token collection answers find by _id $in only')
      return {
        async toArray (): Promise<TokenDoc[]> {
          return ids.flatMap((id) => byId.get(id as string) ?? [])
        }
      }
    }
  }
  return tokens as unknown as Collection<TokenDoc>
}
