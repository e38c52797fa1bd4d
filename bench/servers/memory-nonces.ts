// The auth-server's collection of seen nonces for the bench, in memory, for the reason its
// tokens are (memory-tokens.ts): the embedded store checks a unique _id by scanning, and the
// cold scenario inserts a nonce per request, so the collection would grow by thousands a
// second and each insert would measure that scan; MongoDB checks it through the _id index.
// This object answers the two calls the auth-server's nonce ledger makes (insertOne, failing
// with code 11000 on a duplicate _id as a driver does, and deleteMany of expired ones), so the
// real ledger runs on top of it.

import type { Collection } from 'mongodb'
import type { ServiceNonceDoc } from '../../src/store/documents.js'

export function memoryNonceCollection (): Collection<ServiceNonceDoc> {
  const byId = new Map<string, Date>()
  const nonces = {
    async insertOne (doc: ServiceNonceDoc): Promise<{ acknowledged: true, insertedId: string }> {
      if (byId.has(doc._id)) throw Object.assign(new Error(`E11000 duplicate key error: ${doc._id}`), { code: 11000 })
      byId.set(doc._id, doc.expires_at)
      return { acknowledged: true, insertedId: doc._id }
    },
    async deleteMany (filter: { expires_at?: { $lt?: unknown } }): Promise<{ acknowledged: true, deletedCount: number }> {
      const before = filter.expires_at?.$lt
      if (!(before instanceof Date)) throw new TypeError('the bench nonce collection deletes by expires_at $lt only')
      let deletedCount = 0
      for (const [id, expires] of byId) {
        if (expires < before) {
          byId.delete(id)
          deletedCount++
        }
      }
      return { acknowledged: true, deletedCount }
    }
  }
  return nonces as unknown as Collection<ServiceNonceDoc>
}
