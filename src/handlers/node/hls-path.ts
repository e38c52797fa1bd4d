// An HLS request at a node, `/hls/G/S/C/FILE…`, read from the raw request URI nginx forwards as
// X-Original-URI: the grant G, the camera S/C, and the file under them. Everything the player
// fetches stays under `/hls/G/S/C/`; a path that could leave that prefix once a server
// normalizes it (a '.' or '..' segment, an empty segment, anything percent-encoded, a
// backslash) is not read at all, so the node never serves another camera's files under this
// grant.

export interface HlsPath {
  grant: string
  server: string
  camera: string
}

// A JWT: three base64url parts.
const GRANT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
const UIN = /^[A-Za-z0-9._:-]{1,64}$/
const FILE = /^[A-Za-z0-9._-]{1,255}$/
const MAX_DEPTH = 8

/** The grant and camera of an HLS path; undefined for one that is malformed or could escape. */
export function readHlsPath (path: string): HlsPath | undefined {
  if (!path.startsWith('/hls/')) return undefined
  const parts = path.slice('/hls/'.length).split('/')
  const [grant, server, camera, ...files] = parts
  if (grant === undefined || server === undefined || camera === undefined) return undefined
  if (files.length === 0 || files.length > MAX_DEPTH) return undefined
  if (!GRANT.test(grant) || !UIN.test(server) || !UIN.test(camera)) return undefined
  for (const segment of [server, camera, ...files]) {
    if (segment === '.' || segment === '..') return undefined
  }
  if (!files.every((file) => FILE.test(file))) return undefined
  return { grant, server, camera }
}
