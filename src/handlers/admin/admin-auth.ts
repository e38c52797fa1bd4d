// Admin API access: a bearer token the auth-server knows, with the `admin` right on the
// gateway to write, or `read` to look.

import type { FastifyRequest } from 'fastify'
import type { AuthClient, Principal } from '../../auth/auth-client.js'
import { gatewayError } from '../../errors.js'
import { bearerToken } from '../../http/bearer.js'

export type AdminRole = 'admin' | 'read'

export function bearerOf (request: FastifyRequest): string {
  const header = request.headers.authorization
  if (header === undefined) throw gatewayError('GW_TOKEN_MISSING', 'send Authorization: Bearer <admin token>')
  const token = bearerToken(header)
  if (token === undefined) throw gatewayError('GW_TOKEN_MISSING', 'the Authorization header is not a bearer token')
  return token
}

export async function requireRole (auth: Pick<AuthClient, 'authorize'>, request: FastifyRequest, role: AdminRole): Promise<Principal> {
  return await auth.authorize(bearerOf(request), { rights: role, object_type: 'gateway', object_id: '*' })
}

export function actorOf (principal: Principal): string {
  return `${principal.owner_type}:${principal.owner_id}`
}
