// Where the package's own files are (package.json, the console's pages), from whichever build
// of the code is running: src/ under tsx, dist/, or the bench's compiled copy under
// node_modules/.cache. Walks up from this file to the package.json that names geogate.

import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

let found: string | undefined

export function packageRoot (): string {
  if (found !== undefined) return found
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown }
      if (pkg.name === 'geogate') {
        found = dir
        return dir
      }
    } catch {
      // No package.json here (or not JSON): keep going up.
    }
    const up = path.dirname(dir)
    if (up === dir) throw new Error('geogate\'s package.json was not found above the running code')
    dir = up
  }
}
