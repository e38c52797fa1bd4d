// The client's address, as the gateway resolves it (the peer, or X-Forwarded-For when the peer
// is a trusted proxy), once per request: the stream route, the decision log of a refusal and
// every log line of the request read the same `request.clientAddress`, resolved the first time
// one of them asks. A request nothing asks about (a warm answer with the decision log off and
// nothing logged) resolves nothing.

import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { ClientIpResolver } from '../geo/client-ip.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The client's address as the gateway resolved it (the peer behind trusted proxies). */
    readonly clientAddress: string
    /** clientAddress once resolved; null before. */
    resolvedClientAddress: string | null
  }
}

export interface ClientAddressOptions {
  resolve: ClientIpResolver
}

const clientAddress: FastifyPluginAsync<ClientAddressOptions> = async (app, { resolve }) => {
  app.decorateRequest('resolvedClientAddress', null)
  app.decorateRequest('clientAddress', {
    getter (this: FastifyRequest): string {
      let address = this.resolvedClientAddress
      if (address === null) {
        const forwarded = this.headers['x-forwarded-for']
        address = resolve(this.socket.remoteAddress ?? '', Array.isArray(forwarded) ? forwarded.join(',') : forwarded)
        this.resolvedClientAddress = address
      }
      return address
    }
  })
}

export const clientAddressPlugin = fp(clientAddress, { name: 'geogate-client-address', fastify: '5.x' })
