// Live media for the real-player tests, made by ffmpeg from Debian: an HLS stream written to a
// directory (1 s segments), HTTP-FLV and WebSocket-fMP4 origins that stream a live encode to
// each client, and ffmpeg as the player. Small frames and ultrafast x264 keep the CPU low.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdir, readFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import type { Test } from 'tap'
import { WebSocketServer } from 'ws'
import { stopChild } from '../../src/stop-child.js'

/** The ffmpeg binary on PATH, or undefined. */
export function findFfmpeg (): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v ffmpeg'], { encoding: 'utf8' })
  return found.status === 0 && found.stdout.trim() !== '' ? found.stdout.trim() : undefined
}

/** A live test picture encoded as H.264 at 10 frames/s, a keyframe every second. */
const LIVE_SOURCE = [
  '-hide_banner', '-loglevel', 'error', '-nostdin',
  '-re', '-f', 'lavfi', '-i', 'testsrc=size=96x64:rate=10',
  '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
  '-g', '10', '-keyint_min', '10', '-sc_threshold', '0'
]

function run (t: Test, binary: string, args: string[]): ChildProcess {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  child.stderr?.resume()
  t.teardown(() => stopChild(child))
  return child
}

export interface HlsProducer {
  /** The playlist's directory: HLS_ROOT/SERVER/CAMERA. */
  dir: string
  stop: () => Promise<void>
}

/** Writes a live HLS stream to root/server/camera/index.m3u8; resolves once it has 3 segments. */
export async function startHlsProducer (t: Test, ffmpeg: string, root: string, server: string, camera: string): Promise<HlsProducer> {
  const dir = path.join(root, server, camera)
  await mkdir(dir, { recursive: true })
  const child = run(t, ffmpeg, [
    ...LIVE_SOURCE, '-f', 'hls', '-hls_time', '1', '-hls_list_size', '6',
    '-hls_flags', 'delete_segments+temp_file', '-hls_segment_filename', path.join(dir, 'seg-%05d.ts'),
    path.join(dir, 'index.m3u8')
  ])
  const deadline = Date.now() + 20_000
  for (;;) {
    const playlist = await readFile(path.join(dir, 'index.m3u8'), 'utf8').catch(() => '')
    if ((playlist.match(/\.ts$/gm) ?? []).length >= 3) break
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the HLS producer did not start (exit ${String(child.exitCode)})`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return { dir, stop: () => stopChild(child) }
}

/** Publishes a live encode to an RTMP URL (a node's application), for as long as the test runs. */
export function startRtmpPublisher (t: Test, ffmpeg: string, url: string): { stop: () => Promise<void> } {
  const child = run(t, ffmpeg, [...LIVE_SOURCE, '-f', 'flv', url])
  return { stop: () => stopChild(child) }
}

export interface Origin {
  /** host:port, as the README's FLV_ORIGIN and WS_ORIGIN. */
  address: string
  /** The paths clients asked for. */
  paths: string[]
}

/** A live HTTP-FLV origin: every GET gets its own live encode, for as long as it stays. */
export async function startFlvOrigin (t: Test, ffmpeg: string): Promise<Origin> {
  const paths: string[] = []
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '')
    const child = run(t, ffmpeg, [...LIVE_SOURCE, '-f', 'flv', 'pipe:1'])
    res.writeHead(200, { 'content-type': 'video/x-flv' })
    child.stdout?.pipe(res)
    res.on('close', () => { stopChild(child).catch(() => {}) })
  })
  return await listen(t, server, paths)
}

/** A live WebSocket-fMP4 origin: every connection gets fragmented MP4 as binary messages. */
export async function startWsOrigin (t: Test, ffmpeg: string): Promise<Origin> {
  const paths: string[] = []
  const server = http.createServer((_req, res) => { res.writeHead(426).end() })
  const wss = new WebSocketServer({ server })
  wss.on('connection', (socket, req) => {
    paths.push(req.url ?? '')
    const child = run(t, ffmpeg, [...LIVE_SOURCE, '-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof', 'pipe:1'])
    child.stdout?.on('data', (chunk: Buffer) => socket.send(chunk))
    socket.on('close', () => { stopChild(child).catch(() => {}) })
  })
  t.teardown(() => new Promise<void>((resolve) => {
    for (const client of wss.clients) client.terminate()
    wss.close(() => resolve())
  }))
  return await listen(t, server, paths)
}

async function listen (t: Test, server: http.Server, paths: string[]): Promise<Origin> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, paths }
}

export interface Played {
  /** ffmpeg's exit code. */
  code: number | null
  /** Seconds of media decoded (ffmpeg's out_time). */
  seconds: number
  /** Frames decoded. */
  frames: number
  errors: string
}

export interface Player {
  done: Promise<Played>
  /** Stops the player now, as a viewer closing it. */
  stop: () => Promise<void>
}

/** ffmpeg as a player: opens url (following redirects), decodes up to `seconds`, discards. */
export function play (t: Test, ffmpeg: string, url: string, seconds: number): Player {
  const child = spawn(ffmpeg, [
    '-hide_banner', '-loglevel', 'warning', '-nostdin', '-nostats', '-progress', 'pipe:1',
    '-rw_timeout', '10000000', '-i', url, '-t', String(seconds), '-f', 'null', '-'
  ], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => stopChild(child))
  let progress = ''
  let errors = ''
  child.stdout?.on('data', (chunk: Buffer) => { progress += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { errors += chunk.toString() })
  const done = new Promise<Played>((resolve) => {
    child.once('exit', (code) => {
      const last = (key: string): number => {
        const values = [...progress.matchAll(new RegExp(`^${key}=(\\d+)$`, 'gm'))]
        return Number(values.at(-1)?.[1] ?? 0)
      }
      resolve({ code, seconds: last('out_time_us') / 1e6, frames: last('frame'), errors })
    })
  })
  return { done, stop: () => stopChild(child) }
}
