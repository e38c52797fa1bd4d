// Where a client goes: the node URL per format and the node's TLS, with the signature. For
// HLS the signature is in the path, `/hls/G/S/C/index.m3u8` (DESIGN section 2 step 7): a player
// resolves segment and sub-playlist URIs relative to the playlist, which keeps the path and
// drops the query string. A JWT's characters and UINs' are all path-safe, so nothing is encoded.

import type { NodeDoc, StreamFormat } from '../store/documents.js'

const formatPaths: Record<StreamFormat, string> = {
  flv: '/flv',
  hls: '/hls',
  'ws-fmp4': '/ws-fmp4'
}

function schemeFor (format: StreamFormat, tls: boolean): string {
  if (format === 'ws-fmp4') return tls ? 'wss' : 'ws'
  return tls ? 'https' : 'http'
}

function authority (node: NodeDoc): string {
  const defaultPort = node.tls ? 443 : 80
  const host = node.host.includes(':') ? `[${node.host}]` : node.host
  return node.port === defaultPort ? host : `${host}:${node.port}`
}

export function formatPath (format: StreamFormat): string {
  return formatPaths[format]
}

export function nodeStreamUrl (
  node: NodeDoc, format: StreamFormat, server: string, camera: string, sigParam: string, sig: string
): string {
  if (format === 'hls') return `${schemeFor(format, node.tls)}://${authority(node)}${hlsPlaylistPath(sig, server, camera)}`
  return `${schemeFor(format, node.tls)}://${authority(node)}${formatPaths[format]}` +
    `?server=${encodeURIComponent(server)}&camera=${encodeURIComponent(camera)}&${sigParam}=${sig}`
}

export function hlsPlaylistPath (sig: string, server: string, camera: string): string {
  return `/hls/${sig}/${server}/${camera}/index.m3u8`
}
