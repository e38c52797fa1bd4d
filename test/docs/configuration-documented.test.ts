// docs/configuration.md and src/config.ts list the same settings: each setting has a row with
// its default, and each row of the processes' tables names a setting that exists, so neither
// a new setting nor a removed one leaves the page behind.

import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import t from 'tap'
import { settings } from '../../src/config.js'

const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8')
// The last section lists variables that tools read, not the processes.
const processes = doc.slice(0, doc.indexOf('\n## Outside the processes'))

/** The table row whose first cell is the variable, or undefined. */
function rowOf (env: string): string | undefined {
  return processes.split('\n').find((line) => line.startsWith(`| \`${env}\` |`))
}

for (const spec of Object.values(settings)) {
  const row = rowOf(spec.env)
  t.ok(row, `${spec.env} has a row`)
  if (row === undefined || spec.default === undefined || spec.default === '' || spec.default === hostname()) continue
  const defaultCell = row.split(' | ')[1] ?? ''
  t.ok(defaultCell.includes(`\`${spec.default}\``), `${spec.env}'s row gives its default ${spec.default}`)
}

const known = new Set(Object.values(settings).map((spec) => spec.env))
const documented = [...processes.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((match) => match[1] as string)
t.ok(documented.length >= known.size, 'the rows were found')
t.strictSame(documented.filter((env) => !known.has(env)), [], 'every documented variable is a setting')
