// A real nginx as a streaming node: it guards /flv with auth_request against the gateway's
// /verify and serves a small FLV file. The gateway routes loopback clients to it (a geo group
// by CIDR), and a client that follows the 302 gets the bytes; a tampered signature gets 401.
// Without nginx the test fails (npm test installs it), unless GEOGATE_SKIP_E2E=1.

import { registerLoopbackNode } from '../helpers/loopback-node.js'
import { readFile } from 'node:fs/promises'
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { startNginxNode } from '../helpers/nginx.js'
import { requireTools } from '../helpers/tools.js'
import { get, startSystem } from '../helpers/system.js'

const FLV = fileURLToPath(new URL('../fixtures/media/testsrc-64x64-1s.flv', import.meta.url))
const NODE = 'node-nginx-e2e'
const NODE_KEY = 'nginx-e2e-node-key-0123456789'
const nginx = requireTools(t, ['nginx'])?.nginx

interface Fetched {
  status: number
  type: string | undefined
  body: Buffer
}

function fetchBytes (url: string): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${url} timed out`)))
    req.on('error', reject)
  })
}

if (nginx !== undefined) {
  const system = await startSystem(t)
  const node = await startNginxNode(t, nginx, { gatewayUrl: system.gatewayUrl, nodeId: NODE, nodeKey: NODE_KEY, flvFile: FLV })
  await registerLoopbackNode(t, system, { id: NODE, port: node.port, key: NODE_KEY })
  const streamUrl = `${system.gatewayUrl}/flv?server=UIN-DEMO-1&camera=cam-1&access_token=demo-viewer-token`

  /** The gateway's 302 once its snapshot has the nginx node, within a deadline. */
  async function redirectToNode (): Promise<URL> {
    const deadline = Date.now() + 10_000
    for (;;) {
      const answer = await get(streamUrl)
      if (answer.status === 302) {
        const location = new URL(String(answer.headers.location))
        if (location.port === String(node.port)) return location
      }
      if (Date.now() > deadline) throw new Error(`the gateway never routed to the nginx node; last answer ${answer.status} ${String(answer.headers.location ?? answer.body)}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  t.test('following the redirect, nginx checks the signature with /verify and serves the stream', async (t) => {
    const location = await redirectToNode()
    t.equal(location.origin, node.url)
    t.equal(location.pathname, '/flv')
    const fetched = await fetchBytes(location.href)
    t.equal(fetched.status, 200, `nginx served the stream${fetched.status === 200 ? '' : `; its log:\n${await node.errorLog()}`}`)
    t.equal(fetched.type, 'video/x-flv')
    t.ok(fetched.body.equals(await readFile(FLV)), 'the FLV bytes, whole')
    t.equal(fetched.body.subarray(0, 3).toString(), 'FLV')
  })

  t.test('a tampered or missing signature is refused by nginx', async (t) => {
    const location = await redirectToNode()
    const sig = location.searchParams.get('sig') ?? ''
    const at = sig.lastIndexOf('.') + 5
    const tampered = new URL(location.href)
    tampered.searchParams.set('sig', `${sig.slice(0, at)}${sig[at] === 'x' ? 'y' : 'x'}${sig.slice(at + 1)}`)
    const refused = await fetchBytes(tampered.href)
    t.equal(refused.status, 401, 'tampered')
    t.not(refused.body.subarray(0, 3).toString(), 'FLV')

    const unsigned = new URL(location.href)
    unsigned.searchParams.delete('sig')
    t.equal((await fetchBytes(unsigned.href)).status, 401, 'missing')

    const otherCamera = new URL(location.href)
    otherCamera.searchParams.set('camera', 'cam-2')
    t.equal((await fetchBytes(otherCamera.href)).status, 403, 'signed for another camera')
  })
}
