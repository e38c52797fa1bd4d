// Where a client goes: the node URL per format and the node's TLS, with the signature where
// that format carries it (src/handlers/node-paths.ts).

import type { NodeDoc, StreamFormat } from '../../store/documents.js'
import { nodePathAndQuery } from '../node-paths.js'

function schemeFor (format: StreamFormat, tls: boolean): string {
  if (format === 'ws-fmp4') return tls ? 'wss' : 'ws'
  return tls ? 'https' : 'http'
}

function authority (node: NodeDoc): string {
  const defaultPort = node.tls ? 443 : 80
  const host = node.host.includes(':') ? `[${node.host}]` : node.host
  return node.port === defaultPort ? host : `${host}:${node.port}`
}

export function nodeStreamUrl (
  node: NodeDoc, format: StreamFormat, server: string, camera: string, sigParam: string, sig: string
): string {
  return `${schemeFor(format, node.tls)}://${authority(node)}${nodePathAndQuery(format, server, camera, sigParam, sig)}`
}

/**
 * A query-signed format's URL up to its grant, which ends such a URL (`…&sig=GRANT`): the URL
 * is this followed by the grant, so one node's prefix serves every viewer's grant.
 */
export function nodeStreamUrlBeforeGrant (
  node: NodeDoc, format: Exclude<StreamFormat, 'hls'>, server: string, camera: string, sigParam: string
): string {
  return nodeStreamUrl(node, format, server, camera, sigParam, '')
}
