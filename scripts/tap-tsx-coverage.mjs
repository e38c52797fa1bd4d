// Preloaded by tap into every test process, before tsx (package.json "tap"."node-arg").
//
// tsx puts the TypeScript source into the inline source maps it emits (`sourcesContent`) only
// when NODE_V8_COVERAGE is set as it loads. tap does not set it, because it collects V8 coverage
// through the inspector, so the maps carry `sourcesContent: [null]`; v8-to-istanbul (run by
// `tap report` through c8) then takes null for the original file, and every src file comes out
// as a single empty line, "100%" covered.
//
// tsx compiles ES modules in Node's module-hooks thread, which has its own copy of the
// environment, so this file registers itself there and sets the variable in that copy only,
// before tsx's hooks load. The process's own environment keeps it unset: Node reads it at
// startup, and would write a raw coverage file for every child process that inherited it.
// Child processes get this preload through NODE_OPTIONS instead, so the
// `node --import tsx src/cli.ts` that some tests start is measured correctly too.
import { register } from 'node:module'
import { fileURLToPath } from 'node:url'
import { isMainThread } from 'node:worker_threads'

/** Runs in the module-hooks thread, when registered below. */
export function initialize () {
  // Only tsx reads it in this thread: it is never used as a folder.
  process.env.NODE_V8_COVERAGE = '1'
}

if (isMainThread && process.env._TAPJS_PROCESSINFO_COVERAGE_ === '1' && process.env.NODE_V8_COVERAGE === undefined) {
  register(import.meta.url)
  const self = `--import=${JSON.stringify(fileURLToPath(import.meta.url))}`
  const options = process.env.NODE_OPTIONS ?? ''
  if (!options.includes(self)) process.env.NODE_OPTIONS = `${options} ${self}`.trim()
}
