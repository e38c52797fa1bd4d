#!/usr/bin/env node
// A lane of compiled test files, run a few at a time, each as plain `node` (with source maps,
// so that a failure names the TypeScript line), its TAP shown as a subtest of the lane's.
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

/** One file's run: its output (stdout and stderr, as they came), how it ended, how long it took. */
function runFile (file) {
  const begun = performance.now()
  return new Promise((resolve) => {
    // TAP_TIMEOUT: each test's own limit, which tap's runner passes on from its config (30 s without).
    const child = spawn(process.execPath, ['--enable-source-maps', file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TAP_TIMEOUT: String(timeoutS) } })
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

/** The file's report as a subtest of the lane: its lines indented, then its own test point. */
function report (number, file, run) {
  const failed = run.code !== 0 || run.timedOut
  const why = run.timedOut ? `timed out after ${timeoutS} s` : run.signal !== null ? `ended by ${run.signal}` : run.code !== 0 ? `exit code ${run.code}` : ''
  // Its version line is the lane's own.
  const lines = run.output.replace(/^TAP version \d+\n/, '').replace(/\n$/, '').split('\n').map((line) => line === '' ? '' : `    ${line}`)
  process.stdout.write(`# Subtest: ${file}\n${lines.join('\n')}\n`)
  process.stdout.write(`${failed ? 'not ok' : 'ok'} ${number} - ${file} # time=${run.ms.toFixed(3)}ms\n`)
  if (failed) process.stdout.write(`  ---\n  failure: ${why}\n  ...\n`)
  process.stdout.write('\n')
  return !failed
}

const begun = performance.now()
let next = 0
let reported = 0
const failures = []
async function worker () {
  while (next < files.length) {
    const file = files[next++]
    const run = await runFile(file)
    if (!report(++reported, file, run)) failures.push(file)
  }
}
process.stdout.write('TAP version 14\n')
await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker))
process.stdout.write(`1..${files.length}\n`)
process.stdout.write(`# { total: ${files.length}, pass: ${files.length - failures.length}${failures.length > 0 ? `, fail: ${failures.length}` : ''} }\n`)
for (const file of failures) process.stdout.write(`# failed: ${file}\n`)
process.stdout.write(`# time=${(performance.now() - begun).toFixed(3)}ms\n`)
process.exit(failures.length === 0 ? 0 : 1)
