// The decision log (docs/design.md section 9): one JSON line per stream answer — where the client was,
// which group and rule placed it, which node it was sent to, for whom, and how it ended — and one
// per HLS steering manifest, with what the player reported (event "steering"). It
// holds no token, node key, signature or signed URL: only the fields below, and the request's
// identifiers only when they have the shape the stream route's schema allows.
//
// It must not slow the warm path (about 18 µs of CPU per request): a line is built by
// concatenation, appended to a string, and written once per event-loop turn, all the turn's
// lines together, through SonicBoom (pino's asynchronous destination). If the destination falls
// more than maxBufferBytes behind, lines are dropped and counted rather than held.

import { once } from 'node:events'
import { destination } from 'pino'

export interface Decision {
  /** The client's address as the gateway routed it. */
  client: string
  country: string | null
  group: string | null
  /** Which rule of the group matched: cidr, city, region, country, nearest or default. */
  rule: string | null
  node: string | null
  owner: string | null
  server: string | null
  camera: string | null
  format: string | null
  status: number
  code: string | null
  /** Time taken, in milliseconds. */
  ms: number
  /**
   * A steering manifest's line (an HLS player asking where to fetch from): the pathway the
   * player said it plays from (`node` is the one it was told to use first), and the throughput
   * it measured, bits/s. Absent on a stream answer's line.
   */
  steering?: { pathway: string | null, throughput: number | null }
}

export interface DecisionLog {
  /** Whether this answer is to be logged: false always when the log is off, else by the sample rate. */
  sampled: () => boolean
  write: (decision: Decision) => void
  /** Writes what is pending and closes the destination. */
  close: () => Promise<void>
}

export interface DecisionLogOptions {
  /** 'off', 'stdout', or a file path (appended to). */
  target: string
  /** The share of answers logged, 0 to 1. */
  sample: number
  now?: () => number
  /** Told how many lines were dropped because the destination fell behind. */
  onDrop?: (lines: number) => void
  /** Most bytes waiting for the destination before lines are dropped; default 16 MiB. */
  maxBufferBytes?: number
  /** The random numbers sampling draws (tests pass their own). */
  random?: () => number
}

export const DECISION_LOG_OFF: DecisionLog = { sampled: () => false, write: () => {}, close: async () => {} }

/** Nothing JSON must escape: ids and addresses almost always, and then quoting is enough. */
// eslint-disable-next-line no-control-regex -- the control characters are what JSON must escape
const PLAIN = /^[^"\\\u0000-\u001f\u2028\u2029]*$/

/** A JSON string for s; a regular-expression test is cheaper than JSON.stringify on the warm path. */
function text (s: string | null): string {
  if (s === null) return 'null'
  return PLAIN.test(s) ? '"' + s + '"' : JSON.stringify(s)
}

export async function openDecisionLog (options: DecisionLogOptions): Promise<DecisionLog> {
  const { target, sample } = options
  if (!(sample >= 0 && sample <= 1)) throw new TypeError(`sample must be between 0 and 1, got ${String(sample)}`)
  if (target === 'off' || sample === 0) return DECISION_LOG_OFF
  const now = options.now ?? Date.now
  const random = options.random ?? Math.random
  const stream = destination({
    dest: target === 'stdout' ? 1 : target,
    sync: false,
    mkdir: true,
    maxLength: options.maxBufferBytes ?? 16 * 1024 * 1024
  })
  if (target !== 'stdout') await once(stream, 'ready')
  stream.on('drop', (data: string) => {
    let lines = 0
    for (let i = data.indexOf('\n'); i !== -1; i = data.indexOf('\n', i + 1)) lines++
    options.onDrop?.(lines)
  })
  // A write error is the destination's (disk full): the requests go on.
  stream.on('error', () => {})

  let pending = ''
  let closed = false
  let lastMs = -1
  let lastTime = ''
  const flush = (): void => {
    const chunk = pending
    pending = ''
    if (closed) return
    try {
      stream.write(chunk)
    } catch {
      // Destroyed after a write error: the lines are lost, the requests go on.
      options.onDrop?.(chunk.split('\n').length - 1)
    }
  }

  return {
    sampled: sample >= 1 ? () => true : () => random() < sample,
    write (d) {
      const ms = now()
      if (ms !== lastMs) {
        lastMs = ms
        lastTime = new Date(ms).toISOString()
      }
      if (pending === '') setImmediate(flush)
      pending += '{"time":"' + lastTime + '","client":' + text(d.client) + ',"country":' + text(d.country) +
        ',"group":' + text(d.group) + ',"rule":' + text(d.rule) + ',"node":' + text(d.node) +
        ',"owner":' + text(d.owner) + ',"server":' + text(d.server) + ',"camera":' + text(d.camera) +
        ',"format":' + text(d.format) + ',"status":' + String(d.status) + ',"code":' + text(d.code) +
        ',"ms":' + String(Math.round(d.ms * 1000) / 1000) +
        (d.steering === undefined
          ? '}\n'
          : ',"event":"steering","pathway":' + text(d.steering.pathway) + ',"throughput":' + String(d.steering.throughput) + '}\n')
    },
    async close () {
      if (pending !== '') flush()
      if (closed) return
      closed = true
      const finished = once(stream, 'close')
      stream.end()
      await finished
    }
  }
}
