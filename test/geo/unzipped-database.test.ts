// A gzipped database is unzipped once: the unzipped copy is kept for the next process, and a
// copy that is not a database (cut short, overwritten) is made anew, never read as one.

import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import t from 'tap'
import { openCityDatabase } from '../../src/geo/maxmind-lookup.js'
import { packageRoot } from '../../src/package-root.js'
import { cityFixture } from '../fixtures/mmdb/paths.js'

const dir = await mkdtemp(path.join(tmpdir(), 'geogate-unzipped-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
const plain = await readFile(cityFixture)
const gzipped = path.join(dir, 'city.mmdb.gz')
const another = path.join(dir, 'another.mmdb.gz')
await writeFile(gzipped, gzipSync(plain))
await writeFile(another, gzipSync(plain))

async function copyPath (file: string): Promise<string> {
  const info = await stat(file)
  const name = createHash('sha256').update(`${path.resolve(file)}:${info.size}:${info.mtimeMs}:${info.ino}`).digest('hex').slice(0, 32)
  return path.join(packageRoot(), 'node_modules', '.cache', 'geogate', `${name}.mmdb`)
}
t.teardown(async () => {
  await rm(await copyPath(gzipped), { force: true })
  await rm(await copyPath(another), { force: true })
})

t.test('the unzipped copy is kept, and both opens answer alike', async (t) => {
  const first = await openCityDatabase(gzipped)
  t.equal(first.lookup('77.88.8.8')?.city, 'Moscow')
  const copy = await readFile(await copyPath(gzipped))
  t.ok(copy.equals(plain), 'the kept copy is the unzipped database')
  const second = await openCityDatabase(gzipped)
  t.equal(second.lookup('81.2.69.160')?.city, 'London')
  first.close()
  second.close()
})

t.test('a kept copy that is not a database is unzipped anew', async (t) => {
  // A file this process has not opened, whose kept copy was cut short.
  await writeFile(await copyPath(another), plain.subarray(0, 100))
  const db = await openCityDatabase(another)
  t.equal(db.lookup('77.88.8.8')?.city, 'Moscow')
  t.ok((await readFile(await copyPath(another))).equals(plain), 'the copy is whole again')
  db.close()
})
