// `geogate token create|revoke`: issue and revoke access tokens straight in MongoDB.

import { parseArgs } from 'node:util'
import { createToken, MAX_SESSIONS_LIMIT, revokeToken } from '../auth/token-admin.js'
import type { Grant } from '../store/documents.js'
import type { Store } from '../store/mongo.js'

export const tokenUsage = `usage:
  geogate token create --owner-type TYPE --owner-id ID --grant TYPE:OBJECT:RIGHT[,RIGHT…] [--grant …] [--expires-in SECONDS] [--max-sessions N]
  geogate token revoke TOKEN

  --grant camera:UIN-1/*:view       view every camera of server UIN-1
  --grant gateway:*:admin,read      the admin API
  --max-sessions 3                  feeds at most 3 viewers at once (sharing), beside the tariff's limit
`

export class UsageError extends Error {}

/** 'camera:UIN-1/*:view,read' → a grant; the object id may itself hold colons. */
export function parseGrant (text: string): Grant {
  const first = text.indexOf(':')
  const last = text.lastIndexOf(':')
  if (first <= 0 || last === first || last === text.length - 1) throw new UsageError(`--grant ${JSON.stringify(text)}: expected TYPE:OBJECT:RIGHT[,RIGHT…]`)
  const rights = text.slice(last + 1).split(',').filter((r) => r !== '')
  return { object_type: text.slice(0, first), object_id: text.slice(first + 1, last), rights }
}

export async function runTokenCommand (args: string[], store: Store, now: () => number, print: (line: string) => void): Promise<void> {
  const [action, ...rest] = args
  if (action === 'create') {
    const { values } = parseArgs({
      args: rest,
      options: {
        'owner-type': { type: 'string' },
        'owner-id': { type: 'string' },
        grant: { type: 'string', multiple: true },
        'expires-in': { type: 'string' },
        'max-sessions': { type: 'string' }
      },
      strict: true
    })
    const ownerType = values['owner-type']
    const ownerId = values['owner-id']
    if (ownerType === undefined || ownerId === undefined || values.grant === undefined) throw new UsageError('create needs --owner-type, --owner-id and at least one --grant')
    const expiresIn = values['expires-in']
    if (expiresIn !== undefined && !/^[1-9]\d{0,9}$/.test(expiresIn)) throw new UsageError('--expires-in must be a whole number of seconds')
    const maxSessions = values['max-sessions']
    if (maxSessions !== undefined && !(/^[1-9]\d{0,6}$/.test(maxSessions) && Number(maxSessions) <= MAX_SESSIONS_LIMIT)) {
      throw new UsageError(`--max-sessions must be a whole number from 1 to ${MAX_SESSIONS_LIMIT}`)
    }
    const { token, doc } = await createToken(store.collections.tokens, {
      owner_type: ownerType,
      owner_id: ownerId,
      grants: values.grant.map(parseGrant),
      expires_at: expiresIn !== undefined ? new Date(now() + Number(expiresIn) * 1000) : null,
      max_sessions: maxSessions !== undefined ? Number(maxSessions) : null
    })
    print(token)
    const limit = doc.max_sessions == null ? '' : `, at most ${doc.max_sessions} viewer${doc.max_sessions === 1 ? '' : 's'} at once`
    print(`# id ${doc._id}, owner ${doc.owner_type}:${doc.owner_id}, expires ${doc.expires_at?.toISOString() ?? 'never'}${limit}; shown once, store it now`)
    return
  }
  if (action === 'revoke') {
    const token = rest[0]
    if (token === undefined || rest.length !== 1) throw new UsageError('revoke takes exactly one token')
    if (!await revokeToken(store.collections.tokens, token)) throw new UsageError('no such token')
    print('revoked')
    return
  }
  throw new UsageError(`unknown token action ${JSON.stringify(action ?? '')}`)
}
