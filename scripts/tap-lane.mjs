#!/usr/bin/env node
// A lane of compiled test files, run a few at a time, each as plain `node`, its TAP shown as a
// subtest of the lane's; a failed file runs again with source maps, so that its report names
// TypeScript lines.
//
// tap's own runner starts every test process with its processinfo loader, which it needs for
// coverage and for its records of which process ran which file. That loader puts every module
// the process loads through loader hooks on another thread: a test that builds a gateway
// (about a thousand modules) took 4.7 s of CPU to start with it and 2.1 s without, in each of
// the unit lane's hundred and thirty processes. A tap test file run by node alone writes the
// same TAP and exits 1 when something failed, so the lane needs no more than this.
//
// Usage: node scripts/tap-lane.mjs [--jobs N] [--timeout S] FILE...
// Exits 1 when a file failed (a `not ok`, an exit code, a signal, or its timeout).

import { spawn } from 'node:child_process'
import process from 'node:process'

const args = process.argv.slice(2)
let jobs = 2
let timeoutS = 180
const files = []
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--jobs') jobs = Number(args[++i])
  else if (args[i] === '--timeout') timeoutS = Number(args[++i])
  else files.push(args[i])
}
if (!(Number.isInteger(jobs) && jobs > 0) || !(timeoutS > 0)) {
  console.error('tap-lane: --jobs takes a positive integer, --timeout a positive number of seconds')
  process.exit(2)
}

/** The test processes under way, stopped with the lane. */
const children = new Set()
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    for (const child of children) child.kill('SIGTERM')
    process.exit(1)
  })
}

/**
 * One file's run: its output (stdout and stderr, as they came), how it ended, how long it took.
 * sourceMaps: node maps stack traces to the TypeScript (--enable-source-maps), which costs a
 * process about 0.3 s of CPU to read the maps of every module it loads; a lane runs without,
 * and runs a failed file again with them, for a report that names TypeScript lines.
 */
function runFile (file, { sourceMaps = false } = {}) {
  const begun = performance.now()
  return new Promise((resolve) => {
    // TAP_TIMEOUT: each test's own limit, which tap's runner passes on from its config (30 s without).
    const child = spawn(process.execPath, [...(sourceMaps ? ['--enable-source-maps'] : []), file], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TAP_TIMEOUT: String(timeoutS) }
    })
    children.add(child)
    const chunks = []
    child.stdout.on('data', (chunk) => chunks.push(chunk))
    child.stderr.on('data', (chunk) => chunks.push(chunk))
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGTERM')
      setTimeout(() => child.kill('SIGKILL'), 5000).unref()
    }, timeoutS * 1000)
    child.on('close', (code, signal) => {
      children.delete(child)
      clearTimeout(timer)
      resolve({ output: Buffer.concat(chunks).toString('utf8'), code, signal, timedOut, ms: performance.now() - begun })
    })
  })
}

function failed (run) {
  return run.code !== 0 || run.timedOut
}

function why (run) {
  return run.timedOut ? `timed out after ${timeoutS} s` : run.signal !== null ? `ended by ${run.signal}` : `exit code ${run.code}`
}

/**
 * The file's report as a subtest of the lane: its lines indented, then its own test point. A
 * failed file fails the lane whatever its second run finds; it is shown by that run (source
 * maps: TypeScript lines) when it failed too, else by the first, the only one that shows the
 * failure.
 */
function report (number, file, run, rerun) {
  const shown = rerun !== undefined && failed(rerun) ? rerun : run
  // Its version line is the lane's own.
  const lines = shown.output.replace(/^TAP version \d+\n/, '').replace(/\n$/, '').split('\n').map((line) => line === '' ? '' : `    ${line}`)
  process.stdout.write(`# Subtest: ${file}\n${lines.join('\n')}\n`)
  if (!failed(run)) {
    process.stdout.write(`ok ${number} - ${file} # time=${run.ms.toFixed(3)}ms\n\n`)
    return true
  }
  const second = rerun === undefined
    ? ''
    : failed(rerun)
      ? `; shown: its second run, with source maps, which failed too (${why(rerun)})`
      : '; shown: this first run, without source maps (its second run passed: it fails only sometimes)'
  process.stdout.write(`not ok ${number} - ${file} # time=${run.ms.toFixed(3)}ms\n  ---\n  failure: ${why(run)}${second}\n  ...\n\n`)
  return false
}

const begun = performance.now()
let next = 0
let reported = 0
const failures = []
async function worker () {
  while (next < files.length) {
    const file = files[next++]
    const run = await runFile(file)
    const rerun = failed(run) ? await runFile(file, { sourceMaps: true }) : undefined
    if (!report(++reported, file, run, rerun)) failures.push(file)
  }
}
process.stdout.write('TAP version 14\n')
await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker))
process.stdout.write(`1..${files.length}\n`)
process.stdout.write(`# { total: ${files.length}, pass: ${files.length - failures.length}${failures.length > 0 ? `, fail: ${failures.length}` : ''} }\n`)
for (const file of failures) process.stdout.write(`# failed: ${file}\n`)
process.stdout.write(`# time=${(performance.now() - begun).toFixed(3)}ms\n`)
process.exit(failures.length === 0 ? 0 : 1)
