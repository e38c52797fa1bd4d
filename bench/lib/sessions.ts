// The viewers a scenario's load plays, started before its runs as real viewers start them, and
// written to a file the scenario's wrk script reads (one viewer a line), since thousands of
// grants are more than a command line holds.
//
// An HLS viewer holds a grant of its own (a session id of its own, signed as the gateway signs an
// HLS answer's grant: a grant starts sessions for one viewer address), and its first playlist
// request starts its session: the gateway admits it against the tariff in the store. Starts go 64
// at a time (the gateway admits those that come together in one batch), and the time they take
// is reported. Meanwhile every viewer already started asks again every few seconds, as its
// player would, so that none idles out (HLS_IDLE_S) before the last one has started.
//
// A steering viewer is minted through the gateway's own HLS answer (a 302 to its multivariant
// playlist), whose playlist it then fetches once, as a player does before it asks for the
// steering manifest.

import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Pool } from 'undici'
import { hashToken } from '../../src/auth/token-hash.js'
import { demoTokens } from '../../src/demo/demo-data.js'
import { parseSigningKeys } from '../../src/signing/keys.js'
import { createStreamSigner, newSessionId } from '../../src/signing/stream-signature.js'
import { BENCH_SIGNING_KEYS } from '../servers/bench-data.js'
import { benchAddress } from './warm-up-pass.js'

/** The node, camera and owner of the HLS scenarios' grants. */
export const HLS_NODE = 'node-moscow-1'
export const HLS_SERVER = 'UIN-DEMO-1'
export const HLS_CAMERA = 'cam-1'

export interface StartedViewers {
  /** The file the wrk script reads: one viewer a line, fields separated by spaces. */
  file: string
  count: number
  /** How long starting them took (ms). */
  startupMs: number
  /** The requests sent to keep started viewers alive while the others started. */
  keepAliveRequests: number
  /** Viewers refused at their start or while the others started, by status: not in the load. */
  lost: Record<string, number>
}

/** One HLS viewer: its address and its grant. */
export interface HlsViewer {
  address: string
  grant: string
}

/** How a viewer's request is sent: the status it got. */
export type SendViewer = (pool: Pool, viewer: HlsViewer, file: string) => Promise<number>

const signer = createStreamSigner({ keys: parseSigningKeys(BENCH_SIGNING_KEYS), issuer: 'gw-bench' })
const viewerTokenId = hashToken(demoTokens.viewer)

/** A grant as an HLS answer's: its own session, the demo viewer token's id, signed just now. */
function hlsGrant (): string {
  return signer.sign({ aud: HLS_NODE, sub: `${HLS_SERVER}/${HLS_CAMERA}`, fmt: 'hls', own: 'acct-demo', jti: randomUUID(), sid: newSessionId(), tid: viewerTokenId }).token
}

function viewersFile (name: string, lines: readonly string[]): string {
  const file = path.join(os.tmpdir(), `geogate-bench-${name}-${process.pid}.txt`)
  writeFileSync(file, lines.join('\n') + '\n')
  return file
}

/** Steering sessions minted at once. */
const STARTING = 2
/**
 * HLS viewers starting at once: the gateway admits the starts that come while it writes a
 * batch in the next batch, a few store commands for all of them, so the more start together,
 * the fewer commands each costs the store.
 */
const STARTING_HLS = 64
/** How often a started viewer asks again until the runs: well inside HLS_IDLE_S (30 s). */
const KEEP_ALIVE_MS = 10_000
const KEEPING_ALIVE = 16
/** How long a viewer's start is tried again for, when the store is away (503, or nginx's 500). */
const PATIENCE_MS = 60_000

/**
 * Starts count HLS viewers through send (the gateway's /verify, or a node in front of it), each
 * with a grant signed just before its start (a grant must start its session within SIG_TTL_S).
 * A viewer whose start is refused, or whose session is refused later while the others start, is
 * lost: counted by status, and left out of the load. Throws when none is left.
 */
export async function startHlsViewers (name: string, origin: string, count: number, send: SendViewer, log: (line: string) => void): Promise<StartedViewers> {
  const pool = new Pool(origin, { connections: STARTING_HLS + KEEPING_ALIVE })
  const started: Array<{ viewer: HlsViewer, due: number }> = []
  let keepAliveRequests = 0
  const phase = { starting: true }
  const lost: Record<string, number> = {}
  const lose = (status: number): void => { lost[status] = (lost[status] ?? 0) + 1 }
  const from = Date.now()
  // The started viewers in the order they last asked: each asks again KEEP_ALIVE_MS after that.
  let next = 0
  const keepAlive = async (): Promise<void> => {
    while (phase.starting) {
      const head = started[next]
      if (head === undefined || head.due > Date.now()) {
        await new Promise((resolve) => setTimeout(resolve, 50))
        continue
      }
      next++
      const status = await send(pool, head.viewer, 'index.m3u8')
      keepAliveRequests++
      // A refusal ends the viewer; a 5xx (the store away) is tried again at its next turn.
      if (status === 401 || status === 403) lose(status)
      else started.push({ viewer: head.viewer, due: Date.now() + KEEP_ALIVE_MS })
    }
  }
  let made = 0
  let mark = 1000
  const start = async (): Promise<void> => {
    while (made < count) {
      const viewer = { address: benchAddress(made++), grant: hlsGrant() }
      const giveUpAt = Date.now() + PATIENCE_MS
      let status = await send(pool, viewer, 'index.m3u8')
      for (let attempt = 1; status >= 500 && Date.now() < giveUpAt; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 250 * attempt)))
        status = await send(pool, viewer, 'index.m3u8')
      }
      if (status >= 400) {
        lose(status)
        continue
      }
      started.push({ viewer, due: Date.now() + KEEP_ALIVE_MS })
      if (made >= mark) {
        log(`${name}: ${mark.toLocaleString('en-US')} starts in ${((Date.now() - from) / 1000).toFixed(1)} s`)
        mark += 1000
      }
    }
  }
  const keepers = Array.from({ length: KEEPING_ALIVE }, keepAlive)
  try {
    await Promise.all(Array.from({ length: STARTING_HLS }, start))
  } finally {
    phase.starting = false
    await Promise.all(keepers)
    await pool.close()
  }
  const startupMs = Date.now() - from
  const viewers = started.slice(next).map(({ viewer }) => viewer)
  if (viewers.length === 0) throw new Error(`${name}: no HLS session started and stayed: ${JSON.stringify(lost)}`)
  return { file: viewersFile(name, viewers.map((v) => `${v.address} ${v.grant}`)), count: viewers.length, startupMs, keepAliveRequests, lost }
}

/**
 * Mints count steering sessions through the gateway's HLS answer, each for a viewer of its own
 * address, and fetches each one's multivariant playlist once. Each line: the viewer's address
 * and its steering manifest's path, with the feedback hls.js sends (_HLS_pathway: the playlist's
 * first pathway; _HLS_throughput).
 */
export async function mintSteeringViewers (name: string, gatewayUrl: string, count: number): Promise<StartedViewers> {
  const pool = new Pool(gatewayUrl, { connections: STARTING })
  const lines: string[] = []
  const failures: string[] = []
  const get = async (path: string, address: string): Promise<{ status: number, location: string | undefined, body: string }> => {
    const { statusCode, headers, body } = await pool.request({ method: 'GET', path, headers: { 'x-forwarded-for': address } })
    const location = headers.location
    return { status: statusCode, location: typeof location === 'string' ? location : undefined, body: await body.text() }
  }
  const from = Date.now()
  let made = 0
  const mint = async (): Promise<void> => {
    while (made < count) {
      const address = benchAddress(made++)
      const answer = await get(`/hls?server=${HLS_SERVER}&camera=${HLS_CAMERA}&access_token=${demoTokens.viewer}`, address)
      const location = answer.location === undefined ? undefined : new URL(answer.location, gatewayUrl).pathname
      if (answer.status !== 302 || location?.endsWith('/index.m3u8') !== true) {
        failures.push(`the HLS answer: ${answer.status} ${answer.location ?? answer.body.slice(0, 200)}`)
        continue
      }
      const playlist = await get(location, address)
      const pathway = /PATHWAY-ID="([^"]+)"/.exec(playlist.body)?.[1]
      if (playlist.status !== 200 || pathway === undefined) {
        failures.push(`the multivariant playlist: ${playlist.status} ${playlist.body.slice(0, 200)}`)
        continue
      }
      const manifest = location.replace(/index\.m3u8$/, 'steering.json')
      lines.push(`${address} ${manifest}?_HLS_pathway=${pathway}&_HLS_throughput=${4_000_000 + (made % 1000) * 1000}`)
    }
  }
  try {
    await Promise.all(Array.from({ length: STARTING }, mint))
  } finally {
    await pool.close()
  }
  if (failures.length > 0) throw new Error(`${name}: ${failures.length} of ${count} steering sessions failed to mint, e.g. ${failures[0] ?? ''}`)
  return { file: viewersFile(name, lines), count: lines.length, startupMs: Date.now() - from, keepAliveRequests: 0, lost: {} }
}
