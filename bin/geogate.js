#!/usr/bin/env node
// The published entry point runs the compiled CLI; a checkout without a build runs the sources.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const compiled = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
if (existsSync(compiled)) {
  await import(compiled)
} else {
  await import('tsx/esm')
  await import('../src/cli.ts')
}
