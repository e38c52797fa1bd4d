// Whether a token's grants allow one action on one object (docs/design.md section 6, `tokens`).

import type { Grant } from '../store/documents.js'

export interface GrantRequest {
  /** The one right asked for, such as 'view'. */
  rights: string
  object_type: string
  object_id: string
}

export function grantAllows (grants: Grant[], request: GrantRequest): boolean {
  for (const grant of grants) {
    if (grant.object_type === request.object_type &&
      // Grants come from the store, written by more than one tool: a malformed one allows nothing.
      Array.isArray(grant.rights) &&
      grant.rights.includes(request.rights) &&
      objectIdMatches(grant.object_id, request.object_id)) {
      return true
    }
  }
  return false
}

/**
 * '*' matches every id; 'PREFIX/*' every id under 'PREFIX/'. The '/' stays in the prefix, so
 * 'UIN-DEMO-1/*' does not reach 'UIN-DEMO-10/cam-1'.
 */
function objectIdMatches (granted: string, requested: string): boolean {
  if (granted === '*' || granted === requested) return true
  if (!granted.endsWith('/*')) return false
  const prefix = granted.slice(0, -1)
  return requested.length > prefix.length && requested.startsWith(prefix)
}
