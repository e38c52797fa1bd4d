// Where a node serves each format: the paths geogate's redirects point at, and the paths
// GET /verify accepts for a format. One table, so the two cannot drift apart.

import type { StreamFormat } from '../store/documents.js'

/** Each format's path prefix on a node; a signed URL's path starts with its format's. */
const prefixes: ReadonlyArray<readonly [StreamFormat, string]> = [
  ['flv', '/flv'],
  ['hls', '/hls'],
  ['ws-fmp4', '/ws-fmp4']
]

/** The path a redirect for format points at. */
const entryPaths: Record<StreamFormat, string> = {
  flv: '/flv',
  hls: '/hls/index.m3u8',
  'ws-fmp4': '/ws-fmp4'
}

export function formatPath (format: StreamFormat): string {
  return entryPaths[format]
}

// Path segments of letters, digits, '.', '_' and '-', none starting with '.', nothing encoded:
// X-Original-URI is the raw $request_uri, and '/flv/../hls/x' must not pass as an FLV path.
const SAFE_PATH = /^(?:\/[A-Za-z0-9_-][A-Za-z0-9._-]*)+$/

/** The format a node path serves: its prefix, or anything under it; undefined for any other. */
export function formatOfPath (path: string): StreamFormat | undefined {
  if (!SAFE_PATH.test(path)) return undefined
  for (const [format, prefix] of prefixes) {
    if (path === prefix || path.startsWith(`${prefix}/`)) return format
  }
  return undefined
}
