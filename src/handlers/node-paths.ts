// Where a node serves each format: the paths geogate's redirects point at, and the paths
// GET /verify accepts for a format. One table, so the two cannot drift apart.
//
// For HLS the grant is in the path, `/hls/G/S/C/index.m3u8` (docs/design.md section 2 step 7): a player
// resolves segment and sub-playlist URIs relative to the playlist, which keeps the path and
// drops the query string. A JWT's characters and UINs' are all path-safe, so nothing is encoded.

import type { StreamFormat } from '../store/documents.js'

/** The path prefixes of the formats whose grant is in the query. */
const queryPrefixes: ReadonlyArray<readonly [StreamFormat, string]> = [
  ['flv', '/flv'],
  ['ws-fmp4', '/ws-fmp4']
]

/** The path and query a redirect for format points at, with the grant where that format carries it. */
export function nodePathAndQuery (format: StreamFormat, server: string, camera: string, sigParam: string, grant: string): string {
  if (format === 'hls') return hlsPlaylistPath(grant, server, camera)
  const prefix = queryPrefixes.find(([f]) => f === format)?.[1] ?? ''
  return `${prefix}?server=${encodeURIComponent(server)}&camera=${encodeURIComponent(camera)}&${sigParam}=${grant}`
}

export function hlsPlaylistPath (grant: string, server: string, camera: string): string {
  return `/hls/${grant}/${server}/${camera}/index.m3u8`
}

// Path segments of letters, digits, '.', '_' and '-', none starting with '.', nothing encoded:
// X-Original-URI is the raw $request_uri, and '/flv/../hls/x' must not pass as an FLV path.
const SAFE_PATH = /^(?:\/[A-Za-z0-9_-][A-Za-z0-9._-]*)+$/

/**
 * The format a query-signed node path serves: its prefix, or anything under it; undefined for
 * any other (HLS paths carry their grant and are read by src/handlers/node/hls-path.ts).
 */
export function formatOfPath (path: string): StreamFormat | undefined {
  if (!SAFE_PATH.test(path)) return undefined
  for (const [format, prefix] of queryPrefixes) {
    if (path === prefix || path.startsWith(`${prefix}/`)) return format
  }
  return undefined
}
