// FLV viewers keep watching when their node dies: a player reconnects by asking the gateway URL
// again, and the answer must not be the node that failed it. Three real nginx nodes configured as
// the README says, in one loopback geo group, proxy a live HTTP-FLV origin; each beats every
// HEARTBEAT_MS from the test until it is killed (SIGKILL of its nginx), and beats no more. ffmpeg
// is the player.
//
//   failed=   the client names the node that failed it, with the grant it held for it: the
//             other, live node at once (while the gateway, asked the same instant without
//             failed=, still names the dead one: it has no evidence of its own yet)
//   silent    the client names nothing: no answer names the dead node once two heartbeat
//             intervals have passed since its last beat
//
// and each time ffmpeg plays the new answer.

import { spawn } from 'node:child_process'
import t, { type Test } from 'tap'
import { stopChild } from '../../../src/stop-child.js'
import { play, startFlvOrigin, type Played } from '../../helpers/media.js'
import { get, startSystem } from '../../helpers/system.js'
import { nodeUrl, playerTools, tempDir } from './node-fixture.js'
import { HEARTBEAT_MS, startSteeredNodes, type SteeredNode } from './steering-fixture.js'

/** Decoded before a node is killed: the viewer was watching. */
const WATCHED_S = 3
/** Played from the new answer. */
const REPLAY_S = 5
/**
 * A test process's timer that beats late makes the learned pace, and so two intervals, a
 * little longer than two nominal ones.
 */
const LATE_TIMER_MS = 500

interface Watched {
  /** Seconds decoded so far, as ffmpeg reports its progress. */
  decoded: () => number
  done: Promise<Played>
}

/** ffmpeg as a player, as media.ts's play, whose progress is read while it plays. */
function watch (t: Test, ffmpeg: string, url: string, seconds: number): Watched {
  const child = spawn(ffmpeg, [
    '-hide_banner', '-loglevel', 'warning', '-nostdin', '-nostats', '-progress', 'pipe:1', '-stats_period', '0.25',
    '-rw_timeout', '10000000', '-i', url, '-t', String(seconds), '-f', 'null', '-'
  ], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => stopChild(child))
  let decodedUs = 0
  let frames = 0
  let errors = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    for (const [, key, value] of chunk.matchAll(/^(out_time_us|frame)=(\d+)$/gm)) {
      if (key === 'frame') frames = Number(value)
      else decodedUs = Number(value)
    }
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { errors += chunk })
  const done = new Promise<Played>((resolve) => {
    child.once('exit', (code) => resolve({ code, seconds: decodedUs / 1e6, frames, errors }))
  })
  return { decoded: () => decodedUs / 1e6, done }
}

/** Resolves with check's first defined value, or fails after `ms`. */
async function until<T> (what: string, ms: number, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const found = await check()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function within<T> (what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms) })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

const tools = playerTools(t)
if (tools !== undefined) {
  const { ffmpeg } = tools
  const [flv, hlsRoot, system] = await Promise.all([
    startFlvOrigin(t, ffmpeg),
    tempDir(t, 'hls-unused'),
    startSystem(t, { config: { snapshotRefreshMs: 500 } })
  ])
  const nodes = await startSteeredNodes(t, tools, system, ['node-flv-a', 'node-flv-b', 'node-flv-c'], { hlsRoot, flvOrigin: flv.address })
  const killed = new Set<string>()

  const gatewayUrl = (extra: Record<string, string> = {}): string =>
    `${system.gatewayUrl}/flv?${new URLSearchParams({ server: 'UIN-DEMO-1', camera: 'cam-1', access_token: 'demo-viewer-token', ...extra }).toString()}`

  interface Asked {
    node: SteeredNode
    /** The node URL the 302 names, with its grant. */
    url: URL
    /** When the request left the client (ms). */
    sentAt: number
  }

  /** The gateway's 302, as a reconnecting client asks it; the node is the one its grant is for. */
  async function ask (extra: Record<string, string> = {}): Promise<Asked> {
    const sentAt = Date.now()
    const url = nodeUrl(await get(gatewayUrl(extra)))
    const grant = url.searchParams.get(system.config.signatureParam) ?? ''
    const { aud } = JSON.parse(Buffer.from(grant.split('.')[1] ?? '', 'base64url').toString('utf8')) as { aud: string }
    const node = nodes.find((n) => n.id === aud)
    if (node === undefined) throw new Error(`the 302 names no test node: ${url.href}`)
    return { node, url, sentAt }
  }

  async function kill (node: SteeredNode): Promise<number> {
    killed.add(node.id)
    await node.kill()
    // The beats are stopped: the last one written is the node's last heartbeat.
    const doc = await system.store.collections.nodes.findOne({ _id: node.id })
    return doc?.last_seen?.getTime() ?? 0
  }

  /** The viewer watches `url` until WATCHED_S are decoded; the node it plays from is killed; the player ends. */
  async function watchThenKill (t: Test, url: string, node: SteeredNode): Promise<{ lastBeat: number, killedAt: number }> {
    const player = watch(t, ffmpeg, url, 300)
    await until(`${WATCHED_S} s decoded from ${node.id}`, 30_000, () => player.decoded() >= WATCHED_S ? true : undefined)
    const killedAt = Date.now()
    const lastBeat = await kill(node)
    const ended = await within(`the player's end after ${node.id} died`, 20_000, player.done)
    t.ok(ended.seconds >= WATCHED_S && ended.seconds < 300, `the viewer watched ${ended.seconds.toFixed(1)} s from ${node.id}, then lost it`)
    return { lastBeat, killedAt }
  }

  /** ffmpeg plays url for REPLAY_S, and node's nginx served it. */
  async function replays (t: Test, url: string, node: SteeredNode, after: number): Promise<void> {
    const played = await play(t, ffmpeg, url, REPLAY_S).done
    t.equal(played.code, 0, `ffmpeg exited cleanly${played.code === 0 ? '' : `: ${played.errors}`}`)
    t.ok(played.seconds >= REPLAY_S - 0.5, `decoded ${played.seconds.toFixed(1)} s from the new answer`)
    const served = (await node.node.accessLog()).filter((line) => line.uri === '/flv' && line.at > after)
    t.match(served, [{ status: 200 }], `${node.id} served it`)
  }

  t.test('failed=NODE with the grant held for it: a live node at once', async (t) => {
    const first = await ask()
    const { lastBeat } = await watchThenKill(t, first.url.href, first.node)
    const grant = first.url.searchParams.get(system.config.signatureParam) ?? ''
    // The client asks again at once, naming the node; the same instant, another asks without.
    const [named, plain] = await Promise.all([ask({ failed: first.node.id, failed_sig: grant }), ask()])
    t.not(named.node.id, first.node.id, `naming ${first.node.id}: sent to ${named.node.id}`)
    t.notOk(killed.has(named.node.id), 'a live node')
    if (plain.sentAt < lastBeat + 2 * HEARTBEAT_MS) {
      t.equal(plain.node.id, first.node.id, 'without failed=, the gateway still names the dead node: it has no evidence of its own yet')
    } else {
      t.comment(`asked ${plain.sentAt - lastBeat} ms after the last heartbeat: too late to see the gateway still name the dead node`)
    }
    await replays(t, named.url.href, named.node, lastBeat)
  })

  t.test(`without failed=: no answer names the dead node once ${2 * HEARTBEAT_MS / 1000} s (2 heartbeats) have passed`, async (t) => {
    // The viewer's player asks the gateway URL itself and follows the 302.
    const serving = await until('an answer naming a live node', 15_000, async () => {
      const asked = await ask()
      return killed.has(asked.node.id) ? undefined : asked.node
    })
    const { lastBeat, killedAt } = await watchThenKill(t, gatewayUrl(), serving)
    // The client asks again and again, naming nothing, until it is sent elsewhere.
    const answers: Asked[] = []
    const moved = await until('an answer naming another node', 8 * HEARTBEAT_MS, async () => {
      const asked = await ask()
      answers.push(asked)
      return asked.node.id === serving.id ? undefined : asked
    })
    t.notOk(killed.has(moved.node.id), `sent to ${moved.node.id}, a live node`)
    const stale = answers.filter((a) => a.node.id === serving.id)
    const lastStale = stale.at(-1)?.sentAt ?? killedAt
    t.comment(`the dead node was named until ${lastStale - lastBeat} ms after its last heartbeat (${stale.length} answers); another from ${moved.sentAt - lastBeat} ms`)
    t.ok(lastStale - lastBeat < 2 * HEARTBEAT_MS + LATE_TIMER_MS,
      `no answer named it after two heartbeat intervals (${lastStale - lastBeat} ms after its last beat)`)
    await replays(t, gatewayUrl(), moved.node, killedAt)
  })
}
