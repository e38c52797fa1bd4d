// How the measured processes run: compiled by tsc into a cache folder and started with plain
// `node` (the default, so no loader or on-the-fly transform sits in any measured process), or
// from the sources with `node --import tsx` (--tsx; tsx compiles at load time only).
//
// The build lives under node_modules/.cache so the compiled files resolve the project's
// packages exactly as the sources do, and so neither git nor eslint sees them.

import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = fileURLToPath(new URL('../..', import.meta.url))
const cacheDir = path.join(root, 'node_modules', '.cache', 'geogate-bench')
const outDir = path.join(cacheDir, 'build')

export interface Launcher {
  mode: 'compiled' | 'tsx'
  /** node's arguments to run a TypeScript file of the repository, e.g. bench/servers/x.ts. */
  args: (file: string, nodeFlags?: readonly string[]) => string[]
}

/** Compiles src and the bench's own programs; throws with tsc's output when it fails. */
export function buildForBench (): Launcher {
  mkdirSync(cacheDir, { recursive: true })
  const tsconfig = path.join(cacheDir, 'tsconfig.json')
  const up = path.relative(cacheDir, root)
  writeFileSync(tsconfig, JSON.stringify({
    extends: path.join(up, 'tsconfig.json'),
    compilerOptions: { rootDir: up, outDir: 'build', noEmit: false, sourceMap: true, incremental: true, tsBuildInfoFile: 'build.tsbuildinfo' },
    include: [path.join(up, 'src'), path.join(up, 'bench/servers'), path.join(up, 'bench/*.bench.ts')]
  }, null, 2))
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const result = spawnSync(process.execPath, [tsc, '-p', tsconfig], { cwd: root, encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`tsc failed to build the bench:\n${result.stdout}${result.stderr}`)
  return {
    mode: 'compiled',
    args: (file, nodeFlags = []) => [...nodeFlags, path.join(outDir, file.replace(/\.ts$/, '.js'))]
  }
}

export function tsxLauncher (): Launcher {
  return {
    mode: 'tsx',
    args: (file, nodeFlags = []) => [...nodeFlags, '--import', 'tsx', path.join(root, file)]
  }
}
