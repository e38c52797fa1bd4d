// Tokens and node keys are stored and compared as sha256 digests, never as themselves.

import { createHash } from 'node:crypto'

export function hashToken (token: string): string {
  return createHash('sha256').update(token).digest('hex')
}
