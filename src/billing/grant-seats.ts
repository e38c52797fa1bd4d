// A grant is one viewer's: the HLS URL a redirect hands out starts sessions for one viewer
// address (a few, where the tariff's hls_addresses_per_grant allows more, for players that
// change address), not for everyone it is shared with. Without this bound one grant of an
// unlimited account opened a session, and a session document, per address that asked: 2,457
// in 45 s from one URL.
//
// The grants of one answer (one per pathway node of an HLS answer) share a session id, sid, and
// their seats: a viewer moving from one pathway to another keeps the seat it has.
//
// Each address a grant may serve is a seat, a slot of the pseudo-owner `grant/${sid}` taken with
// the same compare-and-set as a stream slot (take-slot.ts), so the bound holds across every
// gateway replica. The seat's holder is the address, not a session: the same address coming back,
// or playing the grant at another node, holds the seat it has and counts once. A seat is never
// released before the grant's exp (its lease ends then): the addresses of a grant are fixed for
// as long as it can start anything, so a replica that learns them may refuse the others from
// memory. Account ids never hold '/', and session keys never hold a raw '/', so neither the
// pseudo-owner nor the holder can meet a real owner's slots or a session's.

import type { SessionCollections } from './sessions.js'
import { takeSlot } from './take-slot.js'

export interface SeatRequest {
  /** The grants' session id (sid; a grant without one: its jti). */
  grant: string
  address: string
  node: string
  /** How many addresses the grant may serve. */
  limit: number
  now: Date
  /** The grant's exp: after it, the grant starts nothing, so its seats need not outlive it. */
  grantExpiresAt: Date
}

export type Seat = { taken: true } | { taken: false, holders: string[] }

export const DEFAULT_ADDRESSES_PER_GRANT = 1

export async function takeGrantSeat (slots: SessionCollections['slots'], request: SeatRequest): Promise<Seat> {
  const owner = grantSeatOwner(request.grant)
  const taken = await takeSlot(slots, {
    owner,
    holder: seatHolder(request.address),
    node: request.node,
    limit: request.limit,
    now: request.now,
    expiresAt: request.grantExpiresAt,
    // Never renewed by a node's heartbeats: its lease is the grant's.
    renewedBy: 'requests'
  })
  if (taken !== null) return { taken: true }
  // Every seat was held by another address, and stays so until the grant's exp. All the grant's
  // live seats, not only those below the limit: a holder keeps its seat if the tariff lowers it.
  const held = await slots.find({ owner, expires_at: { $gt: request.now } }, { projection: { holder: 1 } }).toArray()
  return { taken: false, holders: seatAddresses(held.flatMap((doc) => doc.holder ?? [])) }
}

/** The viewer addresses among a grant's seat holders. */
export function seatAddresses (holders: readonly string[]): string[] {
  return holders.flatMap((holder) => holder.startsWith(HOLDER) ? [holder.slice(HOLDER.length)] : [])
}

export function grantSeatOwner (grant: string): string {
  return `grant/${grant}`
}

const HOLDER = 'viewer/'

export function seatHolder (address: string): string {
  return `${HOLDER}${address}`
}
