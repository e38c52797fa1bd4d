#!/usr/bin/env -S node --min-semi-space-size=16
// The flag on the line above is src/node-flags.ts's (a test keeps them the same).
// Runs the compiled CLI; a checkout that has not been built runs the TypeScript sources.
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

const compiled = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
if (existsSync(compiled) && process.env.GEOGATE_FROM_SOURCE !== '1') {
  await import(pathToFileURL(compiled).href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import(new URL('../src/cli.ts', import.meta.url).href)
}
