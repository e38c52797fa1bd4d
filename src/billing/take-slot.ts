// Taking one of N slots, each a document with a lease: the one compare-and-set that bounds an
// owner's concurrent streams (admit-session.ts) and a grant's viewer addresses (grant-seats.ts).
//
// Taking a slot is one atomic single-document write that succeeds only if the slot is free (its
// lease is over) or already this holder's:
//
//   findOneAndUpdate({ _id: slot, $or: [{ holder }, { expires_at: { $lte: now } }] },
//                    { $set: { holder, expires_at: now + lease, … } })
//
// and a slot that was never written (or was swept once its lease was long over) is created by
// insertOne, where the unique _id lets one writer win and the others get a duplicate-key error.
// MongoDB applies a write to one document atomically, re-checking the filter against the
// document it changes, so no two holders can hold one slot at one time, and N slots admit at
// most N holders, whatever the concurrency and on however many gateway replicas. The embedded
// store gives the same guarantee. No $push, no counters to decrement, no transactions, no TTL:
// a slot whose lease ran out is free by the filter alone.

import type { SessionSlotDoc } from '../store/documents.js'
import { isDuplicateKey, slotId, type SessionCollections } from './sessions.js'

export interface SlotRequest {
  /** Whose slots: `${owner}#${k}` for k below limit. */
  owner: string
  /** Who takes one: a holder that already holds one of them keeps it, and counts once. */
  holder: string
  node: string
  limit: number
  now: Date
  expiresAt: Date
  renewedBy: 'requests' | undefined
}

/** The id of the slot the holder now holds, or null when all `limit` are held by others. */
export async function takeSlot (slots: SessionCollections['slots'], request: SlotRequest): Promise<string | null> {
  const { owner, holder, node, limit, now, expiresAt, renewedBy } = request
  const lease = { owner, holder, node, expires_at: expiresAt, ...(renewedBy !== undefined && { renewed_by: renewedBy }) }

  // A repeated take by this holder renews the slot it holds, and counts once.
  const held = await slots.findOneAndUpdate({ owner, holder }, { $set: lease }, { projection: { _id: 1 } })
  if (held !== null) return held._id

  // One read orders the attempts: free slots first, then slots never written; slots another
  // holder has are skipped. The read may be stale; each attempt below decides atomically.
  const known = new Map<string, SessionSlotDoc>()
  for (const doc of await slots.find({ owner }, { projection: { expires_at: 1 } }).toArray()) known.set(doc._id, doc)
  const free: string[] = []
  const unwritten: string[] = []
  for (let k = 0; k < limit; k++) {
    const id = slotId(owner, k)
    const doc = known.get(id)
    if (doc === undefined) unwritten.push(id)
    else if (doc.expires_at <= now) free.push(id)
  }

  const claim = async (id: string): Promise<boolean> => {
    const taken = await slots.findOneAndUpdate(
      { _id: id, $or: [{ holder }, { expires_at: { $lte: now } }] },
      { $set: lease },
      { projection: { _id: 1 } }
    )
    return taken !== null
  }
  const insert = async (id: string): Promise<boolean> => {
    try {
      await slots.insertOne({ _id: id, ...lease })
      return true
    } catch (err) {
      if (!isDuplicateKey(err)) throw err
      // Written meanwhile: by another holder (taken), or by a concurrent take of this one.
      return await claim(id)
    }
  }
  for (const id of free) {
    // A free slot the sweeper deleted since the read is taken by writing it again.
    if (await claim(id) || await insert(id)) return id
  }
  for (const id of unwritten) {
    if (await insert(id)) return id
  }
  return null
}
