// Every error code in the registry is documented in docs/errors.md with its status.

import { readFileSync } from 'node:fs'
import t from 'tap'
import { errorRegistry } from '../../src/errors.js'

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')

for (const [code, spec] of Object.entries(errorRegistry)) {
  t.match(doc, new RegExp(`\\| \`${code}\` \\| ${spec.status} \\|`), `${code} is documented with status ${spec.status}`)
  if ('retryAfter' in spec) t.match(doc, new RegExp(`\\| \`${code}\` \\|[^\\n]*\\| ${spec.retryAfter} \\|\\n`), `${code} documents Retry-After ${spec.retryAfter}`)
}
