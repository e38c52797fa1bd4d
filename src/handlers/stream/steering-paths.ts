// Where an HLS session's own URLs are on geogate: its multivariant playlist and, beside it, its
// steering manifest, with the session's token in the path (src/signing/steering-token.ts). The
// manifest is named relative to the playlist, and a renewed token relative to the manifest, so
// the URLs hold wherever geogate is mounted. Server and camera ids and the token's characters
// are all path-safe: nothing is encoded.

export const STEERING_PREFIX = '/hls/steer'
export const MULTIVARIANT_FILE = 'index.m3u8'
export const MANIFEST_FILE = 'steering.json'

/** The multivariant playlist of a session, as the HLS answer's 302 names it. */
export function multivariantPath (server: string, camera: string, token: string): string {
  return `${STEERING_PREFIX}/${server}/${camera}/${token}/${MULTIVARIANT_FILE}`
}

/** The steering manifest's URI relative to the multivariant playlist (its SERVER-URI). */
export const MANIFEST_FROM_PLAYLIST = MANIFEST_FILE

/** A renewed token's manifest, relative to the manifest it renews (RELOAD-URI). */
export function manifestFromManifest (token: string): string {
  return `../${token}/${MANIFEST_FILE}`
}

/**
 * A node's Pathway ID: its id where that is a legal one (letters, digits, '.', '-', '_'), with
 * any other character (a node id may hold ':') as '_'.
 */
export function pathwayId (node: string): string {
  return PATHWAY_SAFE.test(node) ? node : node.replace(/[^A-Za-z0-9._-]/g, '_')
}

const PATHWAY_SAFE = /^[A-Za-z0-9._-]+$/
