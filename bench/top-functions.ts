// The functions a CPU profile spent its time in, most first: self time (the function's own
// code), and optionally inclusive time (with everything it called), plus a summary by where
// the code lives (geogate's src, a package, Node's internals, GC).
//
//   node --import tsx bench/top-functions.ts PROFILE.cpuprofile [--top 25] [--from-ms N] [--inclusive] [--match RE]
//
// --from-ms drops the samples of the profile's first N ms (a server's start-up); --match keeps
// only functions whose location matches RE (e.g. '^src/' for geogate's own code).

import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
  columnNumber: number
}

interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}

export interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

export interface FunctionTime {
  name: string
  location: string
  where: string
  selfMs: number
  selfPercent: number
  inclusiveMs: number
  inclusivePercent: number
}

export interface ProfileSummary {
  sampledMs: number
  functions: FunctionTime[]
  byWhere: Array<{ where: string, selfMs: number, selfPercent: number }>
}

const root = fileURLToPath(new URL('..', import.meta.url))

/** A repository path; the bench's compiled copy (see lib/build.ts) as src/….js. */
function relative (url: string): string {
  if (url === '') return ''
  const file = url.startsWith('file://') ? fileURLToPath(url) : url
  if (!file.startsWith(root)) return file
  return path.relative(root, file).replace(/^node_modules\/\.cache\/geogate-bench\/build\//, '')
}

/** Where code lives: src/<dir>, a package, node:internal, or a V8 pseudo-frame. */
function whereOf (frame: CallFrame): string {
  const file = relative(frame.url)
  if (file === '') return frame.functionName.startsWith('(') ? frame.functionName : '(native)'
  if (file.startsWith('node:')) return 'node internals'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(file)
  if (pkg?.[1] !== undefined) return pkg[1]
  const ours = /^(src|bench)\/([^/]+)\//.exec(file)
  if (ours !== null) return `geogate ${ours[1]}/${ours[2]}`
  return file
}

export function summarizeProfile (profile: CpuProfile, options: { fromMs?: number } = {}): ProfileSummary {
  const byId = new Map<number, ProfileNode>()
  const parent = new Map<number, number>()
  for (const node of profile.nodes) {
    byId.set(node.id, node)
    for (const child of node.children ?? []) parent.set(child, node.id)
  }
  const keyOf = (frame: CallFrame): string => `${frame.functionName}\0${frame.url}\0${frame.lineNumber}`
  const self = new Map<string, number>()
  const inclusive = new Map<string, number>()
  const frames = new Map<string, CallFrame>()
  const fromUs = (options.fromMs ?? 0) * 1000
  let elapsedUs = 0
  let sampledUs = 0
  for (let i = 0; i < profile.samples.length; i++) {
    // Each delta is the time before sample i; the sample stands for the time up to the next one.
    elapsedUs += profile.timeDeltas[i] ?? 0
    const us = profile.timeDeltas[i + 1] ?? 0
    if (elapsedUs < fromUs || us <= 0) continue
    const node = byId.get(profile.samples[i] as number)
    if (node === undefined) continue
    sampledUs += us
    const key = keyOf(node.callFrame)
    frames.set(key, node.callFrame)
    self.set(key, (self.get(key) ?? 0) + us)
    // Inclusive: once per function on the stack, however often it recurs.
    const seen = new Set<string>()
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = (byId.get(id) as ProfileNode).callFrame
      const k = keyOf(frame)
      if (seen.has(k)) continue
      seen.add(k)
      frames.set(k, frame)
      inclusive.set(k, (inclusive.get(k) ?? 0) + us)
    }
  }
  const ms = (us: number): number => Math.round(us / 10) / 100
  const pct = (us: number): number => sampledUs === 0 ? 0 : Math.round(us / sampledUs * 1000) / 10
  const functions = [...frames.entries()].map(([key, frame]): FunctionTime => ({
    name: frame.functionName === '' ? '(anonymous)' : frame.functionName,
    location: frame.url === '' ? '' : `${relative(frame.url)}:${frame.lineNumber + 1}`,
    where: whereOf(frame),
    selfMs: ms(self.get(key) ?? 0),
    selfPercent: pct(self.get(key) ?? 0),
    inclusiveMs: ms(inclusive.get(key) ?? 0),
    inclusivePercent: pct(inclusive.get(key) ?? 0)
  }))
  const where = new Map<string, number>()
  for (const [key, us] of self) {
    const w = whereOf(frames.get(key) as CallFrame)
    where.set(w, (where.get(w) ?? 0) + us)
  }
  return {
    sampledMs: ms(sampledUs),
    functions,
    byWhere: [...where.entries()].sort((a, b) => b[1] - a[1]).map(([w, us]) => ({ where: w, selfMs: ms(us), selfPercent: pct(us) }))
  }
}

export function formatSummary (summary: ProfileSummary, options: { top?: number, inclusive?: boolean, match?: RegExp } = {}): string {
  const top = options.top ?? 25
  const { match } = options
  if (match !== undefined) summary = { ...summary, functions: summary.functions.filter((f) => match.test(f.location)) }
  const lines: string[] = [`${summary.sampledMs.toFixed(0)} ms sampled${match === undefined ? '' : `; functions at ${String(match)}`}`, '', `top ${top} functions by self time:`]
  const row = (a: string, b: string, c: string, d: string): string => `${a.padStart(9)}  ${b.padStart(6)}  ${c.padEnd(44)} ${d}`
  lines.push(row('self ms', 'self %', 'function', 'where'))
  for (const f of [...summary.functions].sort((a, b) => b.selfMs - a.selfMs).slice(0, top)) {
    lines.push(row(f.selfMs.toFixed(1), f.selfPercent.toFixed(1), f.name.slice(0, 44), f.location || f.where))
  }
  if (options.inclusive === true) {
    lines.push('', `top ${top} functions by inclusive time (with what they call):`)
    lines.push(row('total ms', 'tot %', 'function', 'where'))
    const skip = new Set(['(root)', '(program)', '(idle)'])
    for (const f of [...summary.functions].filter((f) => !skip.has(f.name)).sort((a, b) => b.inclusiveMs - a.inclusiveMs).slice(0, top)) {
      lines.push(row(f.inclusiveMs.toFixed(1), f.inclusivePercent.toFixed(1), f.name.slice(0, 44), f.location || f.where))
    }
  }
  lines.push('', 'self time by where the code lives:')
  for (const w of summary.byWhere.slice(0, 20)) lines.push(`${w.selfMs.toFixed(1).padStart(9)}  ${w.selfPercent.toFixed(1).padStart(6)}  ${w.where}`)
  return lines.join('\n') + '\n'
}

function main (argv: string[]): void {
  let file: string | undefined
  let top = 25
  let fromMs = 0
  let inclusive = false
  let match: RegExp | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--top') top = Number(argv[++i])
    else if (arg === '--match') match = new RegExp(argv[++i] ?? '')
    else if (arg === '--from-ms') fromMs = Number(argv[++i])
    else if (arg === '--inclusive') inclusive = true
    else if (!arg.startsWith('--') && file === undefined) file = arg
    else throw new Error(`unknown argument ${arg}`)
  }
  if (file === undefined || !Number.isFinite(top) || !Number.isFinite(fromMs)) {
    process.stderr.write('usage: node --import tsx bench/top-functions.ts PROFILE.cpuprofile [--top N] [--from-ms N] [--inclusive] [--match RE]\n')
    process.exitCode = 2
    return
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  process.stdout.write(formatSummary(summarizeProfile(profile, { fromMs }), { top, inclusive, ...(match !== undefined && { match }) }))
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2))
}
