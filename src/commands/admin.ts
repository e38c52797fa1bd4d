// `geogate admin`: the admin API from a shell. It talks to a running gateway (GEOGATE_URL)
// with an admin token (GEOGATE_TOKEN) and changes nothing the API would not: an error prints
// the API's own message and exits non-zero.

import { parseArgs } from 'node:util'
import { request } from 'undici'

export const adminUsage = `usage:
  geogate admin nodes                              every node with its status, load and weight
  geogate admin nodes set NODE FIELD=VALUE [...]   change fields, e.g. weight=3 or capacity.sessions=500
  geogate admin nodes drain NODE                   no new viewers for NODE (undrain: take them again)
  geogate admin nodes undrain NODE
  geogate admin route IP SERVER [CAMERA] [--format F] [--pattern P]
                                                   how a client at IP would be routed, and why
  geogate admin get COLLECTION [ID]                any admin collection as JSON (nodes, geo-groups,
                                                   servers, partners, tariffs, accounts, tokens, audit)
  geogate admin set COLLECTION ID FIELD=VALUE [...]

  VALUE is JSON when it parses as JSON (3, true, null, ["flv"]), else a string.

environment:
  GEOGATE_URL    the gateway, default http://127.0.0.1:8080
  GEOGATE_TOKEN  an admin token (the \`read\` right to look, \`admin\` to change)
`

export interface AdminIo {
  env: NodeJS.ProcessEnv
  out: (line: string) => void
  err: (line: string) => void
  now?: () => number
}

class AdminUsageError extends Error {}

class ApiError extends Error {
  constructor (readonly status: number, readonly code: string, message: string) {
    super(message)
  }
}

interface Client {
  call: (method: 'GET' | 'PATCH', path: string, body?: unknown) => Promise<any>
}

function client (url: string, token: string): Client {
  return {
    async call (method, path, body) {
      const res = await request(`${url.replace(/\/+$/, '')}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(body !== undefined && { 'content-type': 'application/merge-patch+json' })
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        headersTimeout: 10_000,
        bodyTimeout: 10_000
      })
      const text = await res.body.text()
      let answer: any = null
      try {
        answer = text === '' ? null : JSON.parse(text)
      } catch {
        throw new ApiError(res.statusCode, `HTTP_${res.statusCode}`, `the gateway answered ${res.statusCode} with no JSON`)
      }
      if (res.statusCode >= 400) {
        const error = answer?.error ?? { code: `HTTP_${res.statusCode}`, message: text }
        throw new ApiError(res.statusCode, String(error.code), String(error.message))
      }
      return answer
    }
  }
}

/** ['weight=3', 'capacity.sessions=500'] → {weight: 3, capacity: {sessions: 500}}. */
export function parseAssignments (assignments: string[]): Record<string, unknown> {
  if (assignments.length === 0) throw new AdminUsageError('name at least one FIELD=VALUE')
  const patch: Record<string, unknown> = {}
  for (const assignment of assignments) {
    const eq = assignment.indexOf('=')
    if (eq <= 0) throw new AdminUsageError(`${JSON.stringify(assignment)}: expected FIELD=VALUE`)
    const path = assignment.slice(0, eq).split('.')
    if (path.some((part) => !/^[A-Za-z0-9_-]{1,64}$/.test(part))) throw new AdminUsageError(`${JSON.stringify(assignment)}: a field is letters, digits, _ and -, nested with dots`)
    const text = assignment.slice(eq + 1)
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      value = text
    }
    let target = patch
    for (const part of path.slice(0, -1)) {
      const next = target[part]
      target = (typeof next === 'object' && next !== null ? next : (target[part] = {})) as Record<string, unknown>
    }
    target[path.at(-1) ?? ''] = value
  }
  return patch
}

function age (lastSeen: string | null, now: number): string {
  if (lastSeen === null) return 'never'
  const seconds = Math.max(0, Math.round((now - Date.parse(lastSeen)) / 1000))
  return seconds < 120 ? `${seconds}s ago` : seconds < 7200 ? `${Math.round(seconds / 60)}m ago` : `${Math.round(seconds / 3600)}h ago`
}

function nodeStatus (node: any, now: number, ttlS: number): string {
  if (node.enabled !== true) return 'disabled'
  if (node.last_seen === null) return 'never seen'
  if (now - Date.parse(node.last_seen) > ttlS * 1000) return 'stale'
  // Either drain takes a node out of new choices: the admin's (the DRAINING column) or its own.
  return node.draining === true || node.reported_status === 'draining' ? 'draining' : 'up'
}

/** Rows as columns padded to their widest cell. */
function columns (rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? []
  return rows.map((r) => r.map((cell, i) => i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd())
}

async function listNodes (api: Client, io: AdminIo): Promise<void> {
  const now = (io.now ?? Date.now)()
  const [{ items }, session] = await Promise.all([api.call('GET', '/nodes'), api.call('GET', '/session')])
  const rows = [['NODE', 'GROUP', 'STATUS', 'HEARTBEAT', 'SESSIONS', 'MBPS', 'CPU', 'WEIGHT', 'ENABLED', 'DRAINING']]
  for (const n of items) {
    rows.push([n._id, n.group, nodeStatus(n, now, session.node_ttl_s), age(n.last_seen, now), `${n.load.sessions}/${n.capacity.sessions}`, String(n.load.mbps), `${n.load.cpu}%`, String(n.weight), n.enabled ? 'yes' : 'no', n.draining ? 'yes' : 'no'])
  }
  for (const line of columns(rows)) io.out(line)
}

async function patchAndShow (api: Client, io: AdminIo, collection: string, id: string, patch: Record<string, unknown>): Promise<void> {
  const saved = await api.call('PATCH', `/${collection}/${encodeURIComponent(id)}`, patch)
  const shown = Object.keys(patch).map((key) => `${key}=${JSON.stringify(saved[key])}`).join(' ')
  io.out(`${id}: ${shown}`)
}

async function explainRoute (api: Client, io: AdminIo, args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { format: { type: 'string' }, pattern: { type: 'string' } }, allowPositionals: true, strict: true })
  const [ip, server, camera] = positionals
  if (ip === undefined || server === undefined || positionals.length > 3) throw new AdminUsageError('route takes IP SERVER [CAMERA]')
  const query = new URLSearchParams({ ip, server })
  if (camera !== undefined) query.set('camera', camera)
  if (values.format !== undefined) query.set('format', values.format)
  if (values.pattern !== undefined) query.set('pattern', values.pattern)
  const answer = await api.call('GET', `/route?${query.toString()}`)
  const where = answer.location
  io.out(`client    ${[where.city, where.region_iso, where.country_code].filter((p: unknown) => p !== null).join(', ') || 'unknown'}${where.coordinates === null ? '' : ` (${String(where.coordinates[0])}, ${String(where.coordinates[1])})`} from the ${String(answer.location_source)}`)
  io.out(`groups    ${answer.groups.join(' -> ') as string} (matched by ${String(answer.group_rule)})`)
  io.out(`chosen    ${answer.chosen === null ? 'none: no node can take this stream' : `${String(answer.chosen.node)} in ${String(answer.chosen.group)} (${String(answer.chosen.pattern)})`}`)
  // An HLS viewer's pathways in their order; another format's alternates (redirect=false).
  const pathways = (answer.pathways ?? []) as Array<{ node: string }>
  if (pathways.length > 0) io.out(`pathways  ${pathways.map((p) => p.node).join(' -> ')}`)
  io.out('')
  const rows = [['NODE', 'GROUP', 'PATTERN', 'ELIGIBLE', 'REASON', 'SCORE']]
  for (const c of answer.candidates) rows.push([c.node, c.group, c.pattern, c.eligible ? 'yes' : 'no', c.reason, c.score === null ? '-' : Number(c.score).toFixed(3)])
  for (const line of columns(rows)) io.out(line)
}

async function run (args: string[], api: Client, io: AdminIo): Promise<void> {
  const [what, ...rest] = args
  if (what === 'nodes') {
    const [action, id, ...more] = rest
    if (action === undefined) return await listNodes(api, io)
    if (id === undefined) throw new AdminUsageError(`nodes ${action} needs a node id`)
    if (action === 'set') return await patchAndShow(api, io, 'nodes', id, parseAssignments(more))
    if ((action === 'drain' || action === 'undrain') && more.length === 0) return await patchAndShow(api, io, 'nodes', id, { draining: action === 'drain' })
    throw new AdminUsageError(`unknown: nodes ${action}`)
  }
  if (what === 'route') return await explainRoute(api, io, rest)
  if (what === 'get') {
    const [collection, id] = rest
    if (collection === undefined || !/^[a-z-]{1,32}$/.test(collection) || rest.length > 2) throw new AdminUsageError('get takes COLLECTION [ID]')
    io.out(JSON.stringify(await api.call('GET', `/${collection}${id === undefined ? '' : `/${encodeURIComponent(id)}`}`), null, 2))
    return
  }
  if (what === 'set') {
    const [collection, id, ...assignments] = rest
    if (collection === undefined || id === undefined || !/^[a-z-]{1,32}$/.test(collection)) throw new AdminUsageError('set takes COLLECTION ID FIELD=VALUE [...]')
    return await patchAndShow(api, io, collection, id, parseAssignments(assignments))
  }
  throw new AdminUsageError(what === undefined ? 'name what to do' : `unknown: ${what}`)
}

/** Runs `geogate admin ARGS`; resolves with the exit code: 0 done, 1 the API refused, 2 bad usage. */
export async function runAdminCommand (args: string[], io: AdminIo): Promise<number> {
  if (args.length === 0 || args[0] === '--help' || args[0] === 'help') {
    io.out(adminUsage)
    return args.length === 0 ? 2 : 0
  }
  const token = io.env.GEOGATE_TOKEN
  if (token === undefined || token === '') {
    io.err('geogate: set GEOGATE_TOKEN to an admin token')
    return 2
  }
  const url = io.env.GEOGATE_URL === undefined || io.env.GEOGATE_URL === '' ? 'http://127.0.0.1:8080' : io.env.GEOGATE_URL
  try {
    await run(args, client(url, token), io)
    return 0
  } catch (err) {
    if (err instanceof ApiError) {
      io.err(`geogate: ${err.code}: ${err.message}`)
      return 1
    }
    if (err instanceof AdminUsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
      io.err(`geogate: ${(err as Error).message}\n\n${adminUsage}`)
      return 2
    }
    io.err(`geogate: cannot reach the gateway at ${url}: ${(err as Error).message}`)
    return 1
  }
}
