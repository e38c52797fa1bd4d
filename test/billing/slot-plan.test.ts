// The slots a batch of admissions tries, chosen in memory from one read: the lowest free slot
// below the limit, then the lowest never written; never one slot for two takes; a holder that
// has one is left to take-slot.ts; a slot given back is taken again.

import t from 'tap'
import { planSlots, type KnownSlot } from '../../src/billing/slot-plan.js'

const NOW = new Date('2030-01-01T00:00:00Z')
const past = new Date(NOW.getTime() - 1000)
const future = new Date(NOW.getTime() + 60_000)
const slot = (owner: string, k: number, holder: string | undefined, expiresAt: Date): KnownSlot => ({
  _id: `${owner}#${k}`, owner, expires_at: expiresAt, ...(holder !== undefined && { holder })
})

t.test('distinct slots for the takes of one batch: free ones first, then unwritten ones, up to the limit', async (t) => {
  const plan = planSlots([
    slot('acct', 0, 'a', future),
    slot('acct', 1, 'b', past),
    slot('acct', 2, undefined, new Date(0)),
    slot('acct', 4, 'c', future)
  ], NOW)
  const take = (holder: string): unknown => plan.take({ owner: 'acct', holder, limit: 6 })
  t.same(take('x'), { id: 'acct#1', owner: 'acct', reuse: true }, 'a slot whose lease is over')
  t.same(take('y'), { id: 'acct#2', owner: 'acct', reuse: true }, 'a released one')
  t.same(take('z'), { id: 'acct#3', owner: 'acct', reuse: false }, 'then the lowest never written')
  t.same(take('w'), { id: 'acct#5', owner: 'acct', reuse: false }, 'past the held one')
  t.equal(take('v'), null, 'six slots, six holders')
  t.same(plan.holders('acct').sort(), ['a', 'c', 'w', 'x', 'y', 'z'], 'the live holders, with those planned')
})

t.test('slots at or past the limit are not taken', async (t) => {
  const plan = planSlots([slot('acct', 3, 'old', past), slot('acct', 0, 'a', future)], NOW)
  t.same(plan.take({ owner: 'acct', holder: 'x', limit: 2 }), { id: 'acct#1', owner: 'acct', reuse: false })
  t.equal(plan.take({ owner: 'acct', holder: 'y', limit: 2 }), null, 'the free acct#3 is beyond a limit of 2')
})

t.test('a holder that has a slot of the owner, live or not, is left to take-slot.ts', async (t) => {
  const plan = planSlots([slot('acct', 0, 'a', past)], NOW)
  t.equal(plan.take({ owner: 'acct', holder: 'a', limit: 3 }), 'held')
  t.not(plan.take({ owner: 'acct', holder: 'b', limit: 3 }), 'held')
  t.equal(plan.take({ owner: 'acct', holder: 'b', limit: 3 }), 'held', 'nor does a holder take two in one batch')
})

t.test('a slot given back is taken again, and its holder may take one anew', async (t) => {
  const plan = planSlots([slot('acct', 0, 'a', past)], NOW)
  const reused = plan.take({ owner: 'acct', holder: 'x', limit: 2 })
  const fresh = plan.take({ owner: 'acct', holder: 'y', limit: 2 })
  if (reused === null || reused === 'held' || fresh === null || fresh === 'held') throw new Error('planned nothing')
  t.equal(plan.take({ owner: 'acct', holder: 'z', limit: 2 }), null)
  plan.giveBack(fresh)
  plan.giveBack(reused)
  t.same(plan.holders('acct'), [], 'nothing planned, nothing live')
  t.same(plan.take({ owner: 'acct', holder: 'y', limit: 2 }), { id: 'acct#0', owner: 'acct', reuse: true })
  t.same(plan.take({ owner: 'acct', holder: 'z', limit: 2 }), { id: 'acct#1', owner: 'acct', reuse: false })
})

t.test('owners are apart: an owner that is a prefix of another shares none of its slots', async (t) => {
  const plan = planSlots([slot('acct', 0, 'a', future), { _id: 'acct#1#0', owner: 'acct#1', holder: 'b', expires_at: future }], NOW)
  t.same(plan.take({ owner: 'acct', holder: 'x', limit: 3 }), { id: 'acct#1', owner: 'acct', reuse: false })
  t.same(plan.take({ owner: 'acct#1', holder: 'y', limit: 2 }), { id: 'acct#1#1', owner: 'acct#1', reuse: false })
})
