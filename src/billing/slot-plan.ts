// Which slot each of many takes should try, decided in memory from one read of their owners'
// slots, so that a batch of admissions (admit-new-sessions.ts) writes them all in one command
// and no two of its takes try the same slot. The store still decides: the plan is only what a
// batch tries, and a slot it tries that is no longer free (another replica took it after the
// read) fails the batch's write, whose plays are then admitted one by one (take-slot.ts).
//
// The order is take-slot.ts's: the lowest free slot below the limit (written, its lease over),
// then the lowest never written; a holder that already has a slot of the owner is not planned
// here ('held': its renewal is take-slot.ts's).

import type { SessionSlotDoc } from '../store/documents.js'
import { slotId } from './sessions.js'

export type KnownSlot = Pick<SessionSlotDoc, '_id' | 'owner' | 'holder' | 'expires_at'>

export interface SlotWant {
  owner: string
  holder: string
  limit: number
}

/** A slot to write: `reuse` when a document of it is there, its lease over, to be replaced. */
export interface PlannedSlot {
  id: string
  owner: string
  reuse: boolean
}

export type SlotChoice = PlannedSlot | 'held' | null

export interface SlotPlan {
  /** The slot the want should take; 'held' when its holder has one; null when none is free. */
  take: (want: SlotWant) => SlotChoice
  /** A planned slot the batch will not write after all (a later limit refused its play). */
  giveBack: (slot: PlannedSlot) => void
  /** The holders of the owner's live slots, with those planned. */
  holders: (owner: string) => string[]
}

interface OwnerSlots {
  /** Documents by index. */
  docs: Map<number, KnownSlot>
  /** Holders of a document, live or not, and of a planned slot. */
  holders: Set<string>
  /** Indexes the batch plans, and for whom. */
  planned: Map<number, string>
  /** Indexes of documents whose lease is over, ascending. */
  free: number[]
  /** No free index before this one is unplanned. */
  firstFree: number
  /** No index below this one is unwritten and unplanned. */
  firstUnwritten: number
}

export function planSlots (known: Iterable<KnownSlot>, now: Date): SlotPlan {
  const time = now.getTime()
  const owners = new Map<string, OwnerSlots>()
  const of = (owner: string): OwnerSlots => {
    let slots = owners.get(owner)
    if (slots === undefined) owners.set(owner, slots = { docs: new Map(), holders: new Set(), planned: new Map(), free: [], firstFree: 0, firstUnwritten: 0 })
    return slots
  }
  for (const doc of known) {
    const slots = of(doc.owner)
    if (doc.holder !== undefined) slots.holders.add(doc.holder)
    const index = indexOf(doc.owner, doc._id)
    if (index === undefined) continue
    slots.docs.set(index, doc)
    if (doc.expires_at.getTime() <= time) slots.free.push(index)
  }
  for (const slots of owners.values()) slots.free.sort((a, b) => a - b)

  function plan (slots: OwnerSlots, index: number, holder: string): void {
    slots.planned.set(index, holder)
    slots.holders.add(holder)
  }

  return {
    take ({ owner, holder, limit }) {
      const slots = of(owner)
      if (slots.holders.has(holder)) return 'held'
      while (slots.firstFree < slots.free.length && slots.planned.has(slots.free[slots.firstFree] as number)) slots.firstFree++
      for (let i = slots.firstFree; i < slots.free.length; i++) {
        const index = slots.free[i] as number
        if (index >= limit) break
        if (slots.planned.has(index)) continue
        plan(slots, index, holder)
        return { id: slotId(owner, index), owner, reuse: true }
      }
      let index = slots.firstUnwritten
      while (index < limit && (slots.docs.has(index) || slots.planned.has(index))) index++
      slots.firstUnwritten = index
      if (index >= limit) return null
      plan(slots, index, holder)
      return { id: slotId(owner, index), owner, reuse: false }
    },
    giveBack (slot) {
      const slots = of(slot.owner)
      const index = indexOf(slot.owner, slot.id)
      if (index === undefined) return
      const holder = slots.planned.get(index)
      if (holder === undefined) return
      slots.planned.delete(index)
      slots.holders.delete(holder)
      if (slot.reuse) slots.firstFree = 0
      else slots.firstUnwritten = Math.min(slots.firstUnwritten, index)
    },
    holders (owner) {
      const slots = of(owner)
      const live: string[] = []
      for (const [index, doc] of slots.docs) {
        if (slots.planned.has(index) || doc.holder === undefined || doc.expires_at.getTime() <= time) continue
        live.push(doc.holder)
      }
      return [...live, ...slots.planned.values()]
    }
  }
}

/** k of the slot `${owner}#${k}`; undefined for an id of another shape. */
function indexOf (owner: string, id: string): number | undefined {
  const prefix = `${owner}#`
  if (!id.startsWith(prefix)) return undefined
  const rest = id.slice(prefix.length)
  if (!/^(0|[1-9]\d*)$/.test(rest)) return undefined
  return Number(rest)
}
