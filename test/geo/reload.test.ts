import { copyFile, mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import type { IPLocation } from '../../src/geo/location.js'
import { openCityDatabase } from '../../src/geo/maxmind-lookup.js'
import { cityFixture, cityV2Fixture } from '../fixtures/mmdb/paths.js'

const DEADLINE_MS = 5000

async function tempDir (t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'geogate-reload-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Looks ip up every few ms until until() holds or the deadline passes; every answer must be a location. */
async function pollUntil (
  t: Test, lookup: (ip: string) => IPLocation | null, ip: string, until: (location: IPLocation) => boolean
): Promise<{ changed: boolean, lookups: number }> {
  const deadline = Date.now() + DEADLINE_MS
  let lookups = 0
  let bad = 0
  while (Date.now() < deadline) {
    for (let i = 0; i < 50; i++) {
      let location: IPLocation | null = null
      try {
        location = lookup(ip)
      } catch (err) {
        bad++
        t.fail(`lookup threw during the swap: ${String(err)}`)
      }
      lookups++
      if (location === null) {
        bad++
        if (bad < 5) t.fail('lookup answered null during the swap')
      } else if (until(location)) {
        return { changed: true, lookups }
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  return { changed: false, lookups }
}

t.test('replacing the file swaps in the new data, and no lookup fails meanwhile', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'city.mmdb')
  await copyFile(cityFixture, path)
  const reloads: Array<Error | undefined> = []
  const city = await openCityDatabase(path, { watch: true, watchIntervalMs: 50, onReload: (err) => reloads.push(err) })
  t.teardown(() => city.close())
  const listened: Array<Error | undefined> = []
  city.addReloadListener?.((err) => listened.push(err))
  t.equal(city.lookup('77.88.8.8')?.city, 'Moscow')

  // Replace atomically: write beside it, then rename over it.
  await copyFile(cityV2Fixture, join(dir, 'city.mmdb.tmp'))
  await rename(join(dir, 'city.mmdb.tmp'), path)

  const { changed, lookups } = await pollUntil(t, city.lookup, '77.88.8.8', (location) => location.city !== 'Moscow')
  t.ok(changed, `the new data answered within ${DEADLINE_MS} ms`)
  t.ok(lookups > 0)
  t.same(city.lookup('77.88.8.8'), {
    country_code: 'RU', region_iso: 'RU-TA', city: 'Kazan', coordinates: [55.7887, 49.1221], country_only: false
  })
  t.equal(city.lookup('81.2.69.142')?.city, 'London', 'the rest of the new file answers too')
  t.same(reloads, [undefined], 'onReload heard one successful reload')
  t.same(listened, [undefined], 'so did a listener')
})

t.test('a broken replacement is refused and the old data keeps answering', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'city.mmdb')
  await copyFile(cityFixture, path)
  const reloads: Array<Error | undefined> = []
  const city = await openCityDatabase(path, { watch: true, watchIntervalMs: 50, onReload: (err) => reloads.push(err) })
  t.teardown(() => city.close())

  await writeFile(join(dir, 'city.mmdb.tmp'), 'this is not a MaxMind database')
  await rename(join(dir, 'city.mmdb.tmp'), path)
  const deadline = Date.now() + DEADLINE_MS
  while (reloads.length === 0 && Date.now() < deadline) {
    t.equal(city.lookup('77.88.8.8')?.city, 'Moscow')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  t.equal(reloads.length, 1, 'the failed reload was reported')
  t.type(reloads[0], Error)
  t.equal(city.lookup('77.88.8.8')?.city, 'Moscow', 'the old data still answers')

  // A good file afterwards is picked up.
  await copyFile(cityV2Fixture, join(dir, 'city.mmdb.tmp'))
  await rename(join(dir, 'city.mmdb.tmp'), path)
  const { changed } = await pollUntil(t, city.lookup, '77.88.8.8', (location) => location.city === 'Kazan')
  t.ok(changed, 'a later good file is loaded')
})

t.test('without watch, the file is read once', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'city.mmdb')
  await copyFile(cityFixture, path)
  const city = await openCityDatabase(path)
  t.teardown(() => city.close())
  t.equal(city.addReloadListener, undefined)
  await copyFile(cityV2Fixture, join(dir, 'city.mmdb.tmp'))
  await rename(join(dir, 'city.mmdb.tmp'), path)
  t.equal(city.lookup('77.88.8.8')?.city, 'Moscow')
})
