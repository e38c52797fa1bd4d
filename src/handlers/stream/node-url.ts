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
