// What the real-player tests share: the whole system (store, resolver, auth-server, gateway),
// nginx configured from the README as the only node of a loopback geo group, kept alive by
// heartbeats for as long as the test runs, and the tools (nginx, ffmpeg), without which it fails.

import { registerLoopbackNode } from '../../helpers/loopback-node.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Test } from 'tap'
import type { Config } from '../../../src/config.js'
import { requireTools } from '../../helpers/tools.js'
import { startReadmeNode, type ReadmeNode } from '../../helpers/readme-node.js'
import { get, startSystem, type Answer, type TestSystem } from '../../helpers/system.js'

export const NODE_ID = 'node-player-e2e'
export const NODE_KEY = 'player-e2e-node-key-0123456789'

export interface Tools {
  nginx: string
  ffmpeg: string
}

/** nginx and ffmpeg, or undefined after failing (or, with GEOGATE_SKIP_E2E=1, skipping) the test. */
export function playerTools (t: Test): Tools | undefined {
  return requireTools(t, ['nginx', 'ffmpeg'])
}

export async function tempDir (t: Test, name: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), `geogate-${name}-`))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

export interface PlayerNode {
  system: TestSystem
  node: ReadmeNode
  /** Asks the gateway for a stream; the 302 (or JSON) names the nginx node. */
  /**
   * The gateway's answer for a format. An HLS answer is a 302 straight to the node's grant
   * (steering=off) unless `steering` is 'on': these tests check the node's grant, not the
   * multivariant playlist of Content Steering, which steering.test.ts plays.
   */
  ask: (format: 'flv' | 'hls' | 'ws-fmp4', options?: { token?: string, camera?: string, json?: boolean, from?: string, steering?: 'on' | 'off' }) => Promise<Answer>
}

export interface PlayerNodeOptions {
  config: Partial<Config>
  hlsRoot: string
  flvOrigin?: string
  wsOrigin?: string
  /** Extra gateway replicas (host:port) that nginx sends /verify to, with the test's gateway. */
  replicas?: string[]
}

export async function startPlayerNode (t: Test, tools: Tools, options: PlayerNodeOptions): Promise<PlayerNode> {
  const system = await startSystem(t, { config: options.config })
  return await addReadmeNode(t, tools, system, options)
}

export async function addReadmeNode (t: Test, tools: Tools, system: TestSystem, options: PlayerNodeOptions): Promise<PlayerNode> {
  const own = new URL(system.gatewayUrl).host
  const node = await startReadmeNode(t, tools.nginx, {
    gateways: options.replicas ?? [own],
    nodeId: NODE_ID,
    nodeKey: NODE_KEY,
    hlsRoot: options.hlsRoot,
    flvOrigin: options.flvOrigin ?? '127.0.0.1:9',
    wsOrigin: options.wsOrigin ?? '127.0.0.1:9'
  })
  await registerLoopbackNode(t, system, { id: NODE_ID, port: node.port, key: NODE_KEY })
  // Other replicas learn of the node at their next snapshot reload; until then they refuse its
  // /verify calls as a stranger's (401 GW_TOKEN_INVALID, not the bad grant's 400 or 401 below).
  for (const replica of options.replicas ?? []) await untilReplicaKnowsNode(replica)

  const ask: PlayerNode['ask'] = async (format, o = {}) => {
    const query = new URLSearchParams({ server: 'UIN-DEMO-1', camera: o.camera ?? 'cam-1', access_token: o.token ?? 'demo-viewer-token' })
    if (format === 'hls' && o.steering !== 'on') query.set('steering', 'off')
    return await get(`${system.gatewayUrl}/${format}?${query.toString()}`, {
      headers: o.json === true ? { accept: 'application/json' } : {},
      ...(o.from !== undefined && { from: o.from })
    })
  }
  return { system, node, ask }
}

/** Waits until the replica at host:port accepts the node's key on /verify (at most 10 s). */
async function untilReplicaKnowsNode (replica: string): Promise<void> {
  for (let waited = 0; ; waited += 100) {
    const answer = await get(`http://${replica}/verify`, {
      headers: { authorization: `Bearer ${NODE_KEY}`, 'x-geogate-node': NODE_ID, 'x-original-uri': '/hls/none/UIN-DEMO-1/cam-1/index.m3u8', 'x-real-ip': '127.0.0.1' }
    })
    if (!answer.body.includes('unknown node')) return
    if (waited > 10_000) throw new Error(`replica ${replica} does not know node ${NODE_ID}: ${answer.status} ${answer.body}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** The node URL of a stream answer (302 or JSON); throws on any other answer. */
export function nodeUrl (answer: Answer): URL {
  if (answer.status === 302) return new URL(String(answer.headers.location))
  if (answer.status === 200) return new URL(answer.json().url)
  throw new Error(`the gateway answered ${answer.status} ${answer.body}`)
}
