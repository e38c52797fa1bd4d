#!/usr/bin/env node
// `npm test`: every check geogate has, on this machine, in one command.
//
//   1. the tools of the end-to-end lane (nginx with its modules, ffmpeg, chromium, haproxy,
//      wrk): installed when missing (scripts/ensure-test-tools); where they cannot be, the run
//      stops with one line naming the command, unless GEOGATE_SKIP_E2E=1 says to go without;
//   2. the typecheck and the linter, side by side, and the build (dist/, which the tests'
//      `geogate` processes run, as `npm start` does) when dist/ is older than the sources;
//   3. tap over both lanes in one run: the end-to-end lane (test/e2e: real nginx, ffmpeg,
//      Chromium, haproxy, `geogate dev` as a process) and the unit lane (everything else:
//      in-process apps, inject(), the embedded store). One run, longest files first, so that
//      the two cores are never idle while one slow file finishes alone.
//
// Options: --lane unit|e2e (one lane only), --no-checks (skip typecheck and lint), --coverage
// (tap's coverage report, `npm run coverage`; it costs each test file a second or two of CPU,
// a third of the run), and any file or folder, which then is all tap runs
// (`npm test -- test/billing`).
// It ends with a summary: each step's time and outcome, and what was skipped.

import { spawn } from 'node:child_process'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const E2E = 'test/e2e'
/** Test files run at a time: the suite is bound by CPU, so one a core. */
const JOBS = 2

const args = process.argv.slice(2)
let lane = 'all'
let checks = true
let coverage = false
const chosen = []
for (let i = 0; i < args.length; i++) {
  const arg = args[i]
  if (arg === '--lane') lane = args[++i] ?? ''
  else if (arg === '--no-checks') checks = false
  else if (arg === '--coverage') coverage = true
  else chosen.push(arg)
}
if (!['all', 'unit', 'e2e'].includes(lane)) {
  console.error(`npm test: --lane takes unit or e2e, not '${lane}'`)
  process.exit(2)
}

const skipE2e = process.env.GEOGATE_SKIP_E2E === '1'
const summary = []
const skipped = []

function run (name, command, commandArgs, env = {}) {
  const started = Date.now()
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } })
    child.on('exit', (code, signal) => {
      const seconds = (Date.now() - started) / 1000
      const ok = code === 0
      summary.push(`${ok ? 'ok    ' : 'FAILED'} ${name} (${seconds.toFixed(0)} s${ok ? '' : `, exit ${code ?? signal}`})`)
      resolve(ok)
    })
  })
}

function newest (dir) {
  let found = 0
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name)
    found = Math.max(found, entry.isDirectory() ? newest(rel) : statSync(path.join(root, rel)).mtimeMs)
  }
  return found
}

function builtIsCurrent () {
  try {
    return statSync(path.join(root, 'dist/cli.js')).mtimeMs >= newest('src')
  } catch {
    return false
  }
}

/**
 * Whether tap's test class was built with the plugins package.json names. tap rebuilds it when
 * they differ, but only after its runner has loaded the old one, whose node arguments the first
 * run's test processes then get: on a fresh install that is the TypeScript plugin, a second
 * TypeScript loader in every test process beside tsx.
 */
function tapPluginsBuilt () {
  try {
    const built = readFileSync(path.join(root, 'node_modules/@tapjs/test/test-built/dist/esm/index.js'), 'utf8')
    return !/^@tapjs\/typescript$/m.test(/export const signature = `([^`]*)`/.exec(built)?.[1] ?? '@tapjs/typescript')
  } catch {
    return false
  }
}

function testFiles (dir) {
  return readdirSync(path.join(root, dir)).flatMap((name) => {
    const rel = path.join(dir, name)
    if (statSync(path.join(root, rel)).isDirectory()) return testFiles(rel)
    return name.endsWith('.test.ts') ? [rel] : []
  })
}

function finish (ok) {
  console.log('\nnpm test summary')
  for (const line of summary) console.log(`  ${line}`)
  for (const line of skipped) console.log(`  SKIPPED ${line}`)
  if (skipped.length === 0) console.log('  nothing skipped')
  process.exit(ok ? 0 : 1)
}

let files
if (chosen.length > 0) {
  files = chosen
} else {
  const all = testFiles('test')
  const e2e = all.filter((file) => file.startsWith(E2E + path.sep))
  const unit = all.filter((file) => !file.startsWith(E2E + path.sep))
  const wantE2e = lane !== 'unit'
  if (wantE2e && skipE2e) {
    skipped.push(`the end-to-end lane (GEOGATE_SKIP_E2E=1): ${e2e.length} files under ${E2E}/`)
  }
  files = [
    ...(wantE2e && !skipE2e ? e2e : []),
    ...(lane !== 'e2e' ? unit : [])
  ]
}

if (!skipE2e && (lane !== 'unit' || chosen.some((file) => file.startsWith(E2E)))) {
  if (!await run('end-to-end tools (scripts/ensure-test-tools)', path.join(root, 'scripts/ensure-test-tools'), [])) finish(false)
}

let ok = true
if (checks && chosen.length === 0) {
  // Together: each is mostly one core's work, and the tests wait for both.
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc')
  const results = await Promise.all([
    run('typecheck (tsc --noEmit)', process.execPath, [tsc, '--noEmit', '-p', 'tsconfig.json']),
    run('lint (eslint .)', process.execPath, [path.join(root, 'node_modules/eslint/bin/eslint.js'), '.']),
    ...(tapPluginsBuilt() ? [] : [run('tap build (its plugins as package.json names them)', process.execPath, [path.join(root, 'node_modules/tap/dist/esm/run.mjs'), 'build'])])
  ])
  ok = results.every(Boolean)
  if (!ok) finish(false)
}

if (ok && files.length > 0 && !tapPluginsBuilt()) {
  ok = await run('tap build (its plugins as package.json names them)', process.execPath, [path.join(root, 'node_modules/tap/dist/esm/run.mjs'), 'build'])
  if (!ok) finish(false)
}

if (ok && files.length > 0 && !builtIsCurrent()) {
  ok = await run('build (dist/ was older than src/)', process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'])
  if (!ok) finish(false)
}

if (files.length > 0) {
  const jobs = process.env.GEOGATE_TEST_JOBS ?? String(JOBS)
  ok = await run(`tap (${files.length} files, ${jobs} at a time)`, process.execPath, [path.join(root, 'node_modules/tap/dist/esm/run.mjs'), `--jobs=${jobs}`, ...(coverage ? [] : ['--disable-coverage']), ...files]) && ok
}
finish(ok)
