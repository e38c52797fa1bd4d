// The repository's own folder, whether this file runs from test/ under tsx or compiled into
// test-build/ (where npm test's unit lane runs, beside links to the repository's other files):
// the folder of the package.json the link leads to.

import { realpathSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = path.dirname(realpathSync(fileURLToPath(new URL('../../package.json', import.meta.url))))

/** Whether this code runs compiled (test-build/) rather than as TypeScript under tsx. */
export const compiledTests = import.meta.url.endsWith('.js')
