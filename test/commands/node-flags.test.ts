// Every way geogate starts runs node with NODE_FLAGS: the `geogate` command (its first line),
// `npm start`, and the bench's gateway and baseline (bench/lib/system.ts imports them).

import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import t from 'tap'
import { NODE_FLAGS } from '../../src/node-flags.js'

const root = new URL('../../', import.meta.url)

t.test('bin/geogate.js runs node with the flags, and they take effect', async (t) => {
  const first = readFileSync(new URL('bin/geogate.js', root), 'utf8').split('\n')[0]
  t.equal(first, `#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`)
  // What the kernel runs for that line: node with the flags, whose new space is then 16 MB
  // from the start (about 1 MB without them).
  const newSpace = execFileSync(process.execPath, [...NODE_FLAGS, '-e', 'const v8 = require("node:v8"); const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === "new_space"); process.stdout.write(String(s.space_size))'], { encoding: 'utf8' })
  t.ok(Number(newSpace) >= 16 * 1024 * 1024, `new space ${(Number(newSpace) / 1024 / 1024).toFixed(0)} MB`)
})

t.test('npm start runs node with the flags', async (t) => {
  const scripts = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> }).scripts
  t.equal(scripts.start, `node ${NODE_FLAGS.join(' ')} bin/geogate.js dev`)
})
