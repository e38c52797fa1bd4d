// Dropping a play at its node, when geogate ends it before the viewer leaves (an operator's end,
// a revoked token, a suspended account). A hook play streams straight from the media server,
// which asked geogate once, at on_play, and never again: only the node can stop it. Each node
// record may name where it takes that order (NodeDoc.control):
//
//   nginx-rtmp  GET {url}/drop/client?clientid=ID   (an http location with `rtmp_control drop`;
//               answers 200 with how many clients it dropped)
//   SRS         DELETE {url}/api/v1/clients/{ID}   (its HTTP API; answers {"code": 0})
//
// nginx-rtmp's clientid is the connection number its on_play hook sent; its control location
// walks the sessions of the worker that serves the request, so an RTMP node runs one worker
// (as nginx-rtmp's live streaming wants anyway). Neither endpoint is given credentials: a
// node record is shown to every `read` token, so the control listener is kept to geogate's
// addresses by the node (nginx `allow`/`deny`, SRS's http_api on an inner interface).
//
// Each node's control URL is one upstream client (src/upstream/upstream-client.ts): its pool,
// deadline and breaker, so a node that does not answer costs a drop its deadline, not a hang.
// The clients are bounded in number (the least recently used is closed), since node records
// come and go.

import { createUpstreamClientPool } from '../upstream/client-pool.js'
import { createUpstreamClient, type UpstreamClient } from '../upstream/upstream-client.js'
import { isUpstreamError } from '../upstream/upstream-error.js'
import type { NodeControl } from '../store/documents.js'

export type DropOutcome =
  | { dropped: true }
  /** The node answered that no such play is there (it ended by itself, or another worker holds it). */
  | { dropped: false, reason: 'not_found' | 'failed', message: string }

export interface PlayDropper {
  /** Asks the node to drop the client's play; never rejects. */
  drop: (control: NodeControl, clientId: string) => Promise<DropOutcome>
  close: () => Promise<void>
}

export interface PlayDropperOptions {
  /** The longest one drop may take (ms); default 2000. */
  timeoutMs?: number
  /** Most nodes whose clients are kept; default 256. */
  maxNodes?: number
  now?: () => number
}

/** Why url cannot be a node's control URL; undefined when it can (absolute http(s), a host, no credentials, query or fragment). */
export function controlUrlProblem (url: string): string | undefined {
  if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) return 'is not an absolute http or https URL'
  const parsed = new URL(url)
  if (parsed.username !== '' || parsed.password !== '') return 'holds credentials, which every read token would see: keep the control endpoint to geogate\'s addresses instead'
  if (parsed.search !== '' || parsed.hash !== '') return 'has a query or a fragment'
  return undefined
}

export function createPlayDropper (options: PlayDropperOptions = {}): PlayDropper {
  const timeoutMs = options.timeoutMs ?? 2000
  const maxNodes = options.maxNodes ?? 256
  const clients = createUpstreamClientPool({
    max: maxNodes,
    make: (url) => createUpstreamClient({
      name: `node control ${new URL(url).host}`,
      url,
      timeoutMs,
      connections: 2,
      breaker: { failureThreshold: 5, cooldownMs: 5000 },
      ...(options.now !== undefined && { now: options.now })
    })
  })

  async function nginxRtmp (client: UpstreamClient, clientId: string): Promise<DropOutcome> {
    return await client.call({ method: 'GET', path: `/drop/client?clientid=${encodeURIComponent(clientId)}` }, async (answer) => {
      if (answer.statusCode !== 200) throw await answer.unexpectedStatus()
      const count = Number.parseInt(await answer.text(), 10)
      if (!Number.isInteger(count)) throw answer.malformed('a drop count that is not a number')
      return count > 0 ? { dropped: true } : { dropped: false, reason: 'not_found', message: 'nginx-rtmp dropped no client with this id' }
    })
  }

  async function srs (client: UpstreamClient, clientId: string): Promise<DropOutcome> {
    return await client.call({ method: 'DELETE', path: `/api/v1/clients/${encodeURIComponent(clientId)}` }, async (answer) => {
      if (answer.statusCode === 404) {
        await answer.dump()
        return { dropped: false, reason: 'not_found', message: 'SRS has no client with this id' }
      }
      if (answer.statusCode !== 200) throw await answer.unexpectedStatus()
      const code = (await answer.json() as { code?: unknown } | null)?.code
      if (typeof code !== 'number') throw answer.malformed('no code')
      return code === 0 ? { dropped: true } : { dropped: false, reason: 'not_found', message: `SRS answered code ${code}` }
    })
  }

  return {
    async drop (control, clientId) {
      try {
        const client = clients.get(control.url)
        return control.kind === 'srs' ? await srs(client, clientId) : await nginxRtmp(client, clientId)
      } catch (err) {
        const message = isUpstreamError(err) || err instanceof TypeError ? err.message : 'the drop failed'
        return { dropped: false, reason: 'failed', message }
      }
    },
    async close () {
      await clients.close('close')
    }
  }
}
