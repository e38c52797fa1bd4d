// The outside tools of the end-to-end lane (nginx, ffmpeg, chromium, haproxy), found or missed
// in one way. `npm test` installs them first (scripts/ensure-test-tools), so a missing one is
// a failure that names the command to run, never a silent skip; only GEOGATE_SKIP_E2E=1, which
// `npm test` reports in its summary, turns it into a skip.

import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import type { Test } from 'tap'

export type Tool = 'nginx' | 'ffmpeg' | 'chromium' | 'haproxy'

const packages: Record<Tool, string> = {
  nginx: 'nginx-light',
  ffmpeg: 'ffmpeg',
  chromium: 'chromium',
  haproxy: 'haproxy'
}

const elsewhere: Record<Tool, string[]> = {
  nginx: ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'],
  ffmpeg: ['/usr/bin/ffmpeg'],
  chromium: ['/usr/bin/chromium', '/usr/lib/chromium/chromium'],
  haproxy: ['/usr/sbin/haproxy']
}

/** The tool's path: an override from the environment (CHROMIUM_PATH), PATH, or a usual place. */
export function findTool (tool: Tool): string | undefined {
  const given = tool === 'chromium' ? process.env.CHROMIUM_PATH : undefined
  if (given !== undefined && given !== '') return given
  const names = tool === 'chromium' ? ['chromium', 'chromium-browser'] : [tool]
  for (const name of names) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' })
    if (found.status === 0 && found.stdout.trim() !== '') return found.stdout.trim()
  }
  return elsewhere[tool].find((candidate) => existsSync(candidate))
}

/**
 * Each tool's path; when one is missing, the test fails naming the command that installs it
 * (or, with GEOGATE_SKIP_E2E=1, is skipped) and undefined is returned: the caller returns too.
 */
export function requireTools<T extends Tool> (t: Test, tools: readonly T[]): Record<T, string> | undefined {
  const found = {} as Record<T, string>
  const missing: string[] = []
  for (const tool of tools) {
    const where = findTool(tool)
    if (where === undefined) missing.push(packages[tool])
    else found[tool] = where
  }
  if (missing.length === 0) return found
  if (process.env.GEOGATE_SKIP_E2E === '1') {
    t.plan(0, `${missing.join(', ')} not installed; skipped (GEOGATE_SKIP_E2E=1)`)
  } else {
    t.fail(`${missing.join(', ')} not installed: run scripts/ensure-test-tools (npm test does), or set GEOGATE_SKIP_E2E=1 to skip the end-to-end lane`)
    t.end()
  }
  return undefined
}
