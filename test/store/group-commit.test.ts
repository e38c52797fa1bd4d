// A commit is answered by a save that began after it was asked for, and writers that ask
// together share that save: no write is called kept on a save that may have read before it.

import t from 'tap'
import { createGroupCommit } from '../../src/store/group-commit.js'

/** A save the test finishes by hand, numbered in the order saves began. */
function manualSaves (): { save: () => Promise<number>, began: number, finish: (err?: Error) => void } {
  const pending: Array<{ resolve: (n: number) => void, reject: (err: Error) => void, n: number }> = []
  const state = {
    began: 0,
    save: async () => await new Promise<number>((resolve, reject) => { pending.push({ resolve, reject, n: ++state.began }) }),
    finish (err?: Error) {
      const next = pending.shift()
      if (next === undefined) throw new Error('no save is running')
      if (err === undefined) next.resolve(next.n)
      else next.reject(err)
    }
  }
  return state
}

const settle = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve() }

t.test('a commit asked for during a save waits for the next save', async (t) => {
  const saves = manualSaves()
  const group = createGroupCommit(saves.save)
  const first = group.commit()
  await settle()
  t.equal(saves.began, 1, 'the first commit starts a save')
  const second = group.commit()
  const third = group.commit()
  await settle()
  t.equal(saves.began, 1, 'no second save runs beside the first')
  saves.finish()
  t.equal(await first, 1)
  await settle()
  t.equal(saves.began, 2, 'the next save starts once the first ends')
  saves.finish()
  t.equal(await second, 2, 'a commit asked for during save 1 is answered by save 2')
  t.equal(await third, 2, 'and shares it with the others that asked meanwhile')
  await group.idle()
})

t.test('a failed save fails its commits, and the next commit gets a save of its own', async (t) => {
  const saves = manualSaves()
  const group = createGroupCommit(saves.save)
  const failed = group.commit()
  await settle()
  saves.finish(new Error('disk full'))
  await t.rejects(failed, /disk full/)
  const next = group.commit()
  await settle()
  saves.finish()
  t.equal(await next, 2)
})

t.test('idle waits for the saves already asked for', async (t) => {
  const saves = manualSaves()
  const group = createGroupCommit(saves.save)
  void group.commit()
  await settle()
  void group.commit()
  let idle = false
  void group.idle().then(() => { idle = true })
  saves.finish()
  await settle()
  t.notOk(idle, 'not while the second save is still to run')
  saves.finish()
  await group.idle()
  t.equal(saves.began, 2)
})
