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
//
// Without coverage (`npm test`), tap still hands every test process its processinfo loader
// through NODE_OPTIONS, which only serves coverage and tap's own records of which process ran
// which file. Every process a test starts (a `geogate` command, a replica, the auth-server)
// would inherit it and pay for it: it more than doubles the CPU a geogate process takes to
// start (1.4 s to 3.4 s for a gateway that stops on a bad setting). So this file takes it out
// of the environment the test's children inherit.
import { register } from 'node:module'
import { fileURLToPath } from 'node:url'
import { isMainThread } from 'node:worker_threads'

/** Runs in the module-hooks thread, when registered below. */
export function initialize () {
  // Only tsx reads it in this thread: it is never used as a folder.
  process.env.NODE_V8_COVERAGE = '1'
}

if (isMainThread && process.env._TAPJS_PROCESSINFO_COVERAGE_ === '0' && process.env.NODE_OPTIONS !== undefined) {
  const options = process.env.NODE_OPTIONS.replace(/"?--(?:import|loader)=\S*@tapjs\/processinfo\S*?"?(?=\s|$)/g, '').trim()
  if (options === '') delete process.env.NODE_OPTIONS
  else process.env.NODE_OPTIONS = options
}

if (isMainThread && process.env._TAPJS_PROCESSINFO_COVERAGE_ === '1' && process.env.NODE_V8_COVERAGE === undefined) {
  register(import.meta.url)
  const self = `--import=${JSON.stringify(fileURLToPath(import.meta.url))}`
  const options = process.env.NODE_OPTIONS ?? ''
  if (!options.includes(self)) process.env.NODE_OPTIONS = `${options} ${self}`.trim()
}
