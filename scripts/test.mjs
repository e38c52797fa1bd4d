#!/usr/bin/env node
// `npm test`: every check geogate has, on this machine, in one command.
//
//   1. the tools of the end-to-end lane (nginx with its modules, ffmpeg, chromium, haproxy,
//      wrk): installed when missing (scripts/ensure-test-tools); where they cannot be, the run
//      stops with one line naming the command, unless GEOGATE_SKIP_E2E=1 says to go without;
//   2. the build (dist/, which the tests' `geogate` processes run, as `npm start` does) when
//      dist/ is older than the sources;
//   3. the project compiled by esbuild into test-build/ (a second or two), and then the two lanes
//      side by side, each test file run compiled by plain node (scripts/tap-lane.mjs), with the
//      typecheck and the linter beside them. The end-to-end lane (test/e2e: real nginx, ffmpeg,
//      Chromium, haproxy, `geogate dev` as a process) mostly waits: players play in real time,
//      nodes die and come back. It is two runs of one file at a time, whose files are shared
//      out by their known length. The unit lane (everything else: in-process apps, inject(),
//      the embedded store; bound by CPU) is one run of two files at a time. The unit lane, the
//      typecheck and the linter run at a lower priority (nice), so that the players' real-time
//      work is never the one kept waiting. A failed check stops the lanes. The end-to-end
//      runs' reports are written to .tap/e2e-lane-N.log and printed in full when every lane is
//      over.
//
// Options: --lane unit|e2e (one lane only, run by tap under tsx), --no-checks (skip typecheck
// and lint), --coverage (tap's coverage report, `npm run coverage`, in one tap run of both
// lanes; it costs each test file a second or two of CPU, a third of the run), and any file or
// folder, which then is all tap runs (`npm test -- test/billing`).
// It ends with a summary: each step's time and outcome, and what was skipped.

import { spawn } from 'node:child_process'
import { createWriteStream, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs'
import { setPriority } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const E2E = 'test/e2e'
/** Test files each lane runs at a time: the unit lane is bound by CPU, one a core. */
const JOBS = 2
const TAP = path.join(root, 'node_modules/tap/dist/esm/run.mjs')
/** Each test file's limit, as package.json gives it to tap's runner. */
const TAP_TIMEOUT_S = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).tap?.timeout ?? 180
/**
 * Where the project is compiled for the lanes to run as plain JavaScript. Under tsx every module
 * a test process loads (a gateway's are about a thousand, most of them packages) goes through
 * loader hooks on another thread, which makes loading them three times as slow; tap's runner
 * adds hooks of its own (tap-lane.mjs says why it is not used). A test that builds a gateway
 * took 4.7 s of CPU to start under tap's runner and 2.1 s as plain node. esbuild writes the
 * build in a second or two (the same transform tsx applies); tsc only checks. The folders
 * compiled, and links to everything else of the repository beside them, so that a test finds
 * README.md or a fixture where it would in the repository.
 */
const BUILD = 'test-build'
const COMPILED = ['src', 'test', 'bench', 'scripts']
const NOT_LINKED = new Set([...COMPILED, BUILD, '.git', '.tap', 'coverage'])
/**
 * The priority (nice) of the typecheck, the linter and the unit lane while the end-to-end lane
 * runs beside them: players decode and ffmpeg encodes in real time there, and a starved one
 * stalls, while the others only take a little longer.
 */
const BACKGROUND = 10

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

/**
 * Runs one step; its output goes to the terminal, or to `log` (a file) when given. `started`
 * receives the child, so that a step can be stopped when another fails.
 */
function run (name, command, commandArgs, { log, started, nice = 0 } = {}) {
  const begun = Date.now()
  return new Promise((resolve) => {
    const out = log === undefined ? undefined : createWriteStream(log)
    const child = spawn(command, commandArgs, { cwd: root, stdio: out === undefined ? 'inherit' : ['ignore', 'pipe', 'pipe'] })
    if (out !== undefined) {
      child.stdout.pipe(out, { end: false })
      child.stderr.pipe(out, { end: false })
    }
    // Before the child starts anything of its own: what it starts inherits the priority.
    if (nice !== 0) setPriority(child.pid, nice)
    started?.(child)
    child.on('close', (code, signal) => {
      out?.end()
      const seconds = (Date.now() - begun) / 1000
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

/** The files under dir whose names end with suffix, relative to the root. */
function filesEndingWith (dir, suffix) {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name)
    if (entry.isDirectory()) return filesEndingWith(rel, suffix)
    return entry.name.endsWith(suffix) ? [rel] : []
  })
}

/**
 * The end-to-end files' wall time in a full run on a 2-core machine (seconds), by which they
 * are shared out between the lane's two runs; a file not named counts as UNKNOWN_S. Refresh it
 * when they change much.
 */
const E2E_SECONDS = {
  'test/e2e/players/steering.test.ts': 114,
  'test/e2e/console.test.ts': 48,
  'test/e2e/players/hls-viewers.test.ts': 42,
  'test/e2e/haproxy-replicas.test.ts': 34,
  'test/e2e/players/flv-failover.test.ts': 33,
  'test/e2e/players/hls.test.ts': 30,
  'test/e2e/players/ws-flv.test.ts': 17,
  'test/e2e/nginx-auth-cache.test.ts': 11,
  'test/e2e/players/hls-end.test.ts': 7,
  'test/e2e/rtmp-drop.test.ts': 5,
  'test/e2e/nginx-node.test.ts': 5
}
const UNKNOWN_S = 10
const E2E_RUNS = 2

/** The files in `runs` groups of about equal total time, longest first into the lightest. */
function shareOut (files, runs) {
  const seconds = (file) => E2E_SECONDS[file.split(path.sep).join('/')] ?? UNKNOWN_S
  const groups = Array.from({ length: runs }, () => ({ files: [], seconds: 0 }))
  for (const file of [...files].sort((a, b) => seconds(b) - seconds(a))) {
    const lightest = groups.reduce((a, b) => (b.seconds < a.seconds ? b : a))
    lightest.files.push(file)
    lightest.seconds += seconds(file)
  }
  return groups.map((group) => group.files).filter((group) => group.length > 0)
}

function finish (ok) {
  console.log('\nnpm test summary')
  for (const line of summary) console.log(`  ${line}`)
  for (const line of skipped) console.log(`  SKIPPED ${line}`)
  if (skipped.length === 0) console.log('  nothing skipped')
  process.exit(ok ? 0 : 1)
}

let lanes
if (chosen.length > 0) {
  lanes = { one: chosen }
} else {
  const all = filesEndingWith('test', '.test.ts')
  const e2e = all.filter((file) => file.startsWith(E2E + path.sep))
  const unit = all.filter((file) => !file.startsWith(E2E + path.sep))
  const wantE2e = lane !== 'unit'
  if (wantE2e && skipE2e) {
    skipped.push(`the end-to-end lane (GEOGATE_SKIP_E2E=1): ${e2e.length} files under ${E2E}/`)
  }
  lanes = {
    e2e: wantE2e && !skipE2e ? e2e : [],
    unit: lane !== 'e2e' ? unit : []
  }
  // Coverage is one report of one run; one lane alone reports live.
  if (coverage || lanes.e2e.length === 0 || lanes.unit.length === 0) lanes = { one: [...lanes.e2e, ...lanes.unit] }
}

if (!skipE2e && (lane !== 'unit' || chosen.some((file) => file.startsWith(E2E)))) {
  if (!await run('end-to-end tools (scripts/ensure-test-tools)', path.join(root, 'scripts/ensure-test-tools'), [])) finish(false)
}

const testing = Object.values(lanes).some((files) => files.length > 0)
// Only tap's runner reads the plugins' node arguments: the lanes' files, run by plain node, work
// with the test class as installed.
if (lanes.one !== undefined && lanes.one.length > 0 && !tapPluginsBuilt()) {
  if (!await run('tap build (its plugins as package.json names them)', process.execPath, [TAP, 'build'])) finish(false)
}
if (testing && !builtIsCurrent()) {
  if (!await run('build (dist/ was older than src/)', process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'])) finish(false)
}

const running = new Set()
/** Keeps a lane's child in `running` while it runs, for stopLanes. */
function stoppable (child) {
  running.add(child)
  child.on('close', () => running.delete(child))
}

function tapRun (name, files, options = {}) {
  const jobs = options.jobs ?? process.env.GEOGATE_TEST_JOBS ?? String(JOBS)
  return run(`${name} (${files.length} files, ${jobs} at a time)`, process.execPath, [TAP, `--jobs=${jobs}`, ...(coverage ? [] : ['--disable-coverage']), ...files], {
    ...options,
    started: stoppable
  })
}

/** Compiled test files, each run by plain node (scripts/tap-lane.mjs): tap's runner adds a loader that doubles their start. */
function laneRun (name, files, options = {}) {
  const jobs = options.jobs ?? process.env.GEOGATE_TEST_JOBS ?? String(JOBS)
  return run(`${name} (${files.length} files, ${jobs} at a time, compiled in ${BUILD}/)`, process.execPath, [path.join(root, 'scripts/tap-lane.mjs'), '--jobs', jobs, '--timeout', String(TAP_TIMEOUT_S), ...files], {
    ...options,
    started: stoppable
  })
}

/** Links in BUILD to the repository's files that are not compiled TypeScript. */
function linkTheRest () {
  const build = path.join(root, BUILD)
  for (const name of readdirSync(root)) {
    if (!NOT_LINKED.has(name)) symlinkSync(path.join(root, name), path.join(build, name))
  }
  const mirror = (rel) => {
    for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = path.join(rel, entry.name)
      if (entry.isDirectory()) {
        mkdirSync(path.join(build, child), { recursive: true })
        mirror(child)
      } else if (!entry.name.endsWith('.ts')) {
        symlinkSync(path.join(root, child), path.join(build, child))
      }
    }
  }
  for (const dir of COMPILED) mirror(dir)
}

/** COMPILED as JavaScript in BUILD (with source maps, for the reports' line numbers), and the rest linked. */
async function compileForLanes () {
  const begun = Date.now()
  rmSync(path.join(root, BUILD), { recursive: true, force: true })
  try {
    const { build } = await import('esbuild')
    await build({
      entryPoints: COMPILED.flatMap((dir) => filesEndingWith(dir, '.ts')),
      absWorkingDir: root,
      outbase: '.',
      outdir: BUILD,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: true,
      logLevel: 'error'
    })
    linkTheRest()
    summary.push(`ok     compiled for the lanes, to ${BUILD}/ (esbuild) (${((Date.now() - begun) / 1000).toFixed(0)} s)`)
    return true
  } catch (err) {
    console.error(err)
    summary.push(`FAILED compiled for the lanes, to ${BUILD}/ (esbuild)`)
    return false
  }
}

/** The typecheck and the linter, together: each is mostly one core's work. */
async function runChecks ({ nice = 0 } = {}) {
  if (!checks || chosen.length > 0) return true
  const results = await Promise.all([
    run('typecheck (tsc --noEmit)', process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.json'], { nice }),
    run('lint (eslint .)', process.execPath, [path.join(root, 'node_modules/eslint/bin/eslint.js'), '.'], { nice })
  ])
  return results.every(Boolean)
}

/** A failed check stops the tests under way: the run is red whatever they find. */
function stopLanes () {
  for (const child of running) child.kill('SIGTERM')
}

let ok
if (lanes.one !== undefined) {
  ok = await runChecks()
  if (ok && lanes.one.length > 0) ok = await tapRun('tap', lanes.one)
} else {
  mkdirSync(path.join(root, '.tap'), { recursive: true })
  const compiled = await compileForLanes()
  const built = (files) => files.map((file) => path.join(BUILD, file.replace(/\.ts$/, '.js')))
  const e2eRuns = compiled
    ? shareOut(lanes.e2e, E2E_RUNS).map((files, i) => {
      const log = path.join(root, '.tap', `e2e-lane-${i + 1}.log`)
      console.log(`end-to-end lane, run ${i + 1}, beside the rest (its report at the end; meanwhile ${path.relative(root, log)}): ${files.join(' ')}`)
      return { log, done: laneRun(`end-to-end lane, run ${i + 1}`, built(files), { log, jobs: '1' }) }
    })
    : []
  const unitDone = compiled ? laneRun('unit lane', built(lanes.unit), { nice: BACKGROUND }) : Promise.resolve(false)
  ok = compiled && await runChecks({ nice: BACKGROUND })
  if (!ok) stopLanes()
  const unitOk = await unitDone
  const e2eOk = (await Promise.all(e2eRuns.map((e2eRun) => e2eRun.done))).every(Boolean)
  for (const [i, { log }] of e2eRuns.entries()) {
    console.log(`\nend-to-end lane, run ${i + 1} (${path.relative(root, log)})\n`)
    process.stdout.write(readFileSync(log, 'utf8'))
  }
  ok = ok && unitOk && e2eOk
}
finish(ok)
