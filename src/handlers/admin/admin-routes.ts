// The admin API under /api/v1: CRUD with audit, node heartbeats, and the route explainer.

import type { FastifyInstance } from 'fastify'
import type { Collections } from '../../store/mongo.js'
import { adminCollections } from './admin-collections.js'
import { registerCrudRoutes, type CrudDeps } from './crud-routes.js'
import { registerHeartbeatRoutes } from '../node/heartbeat-route.js'
import { registerRouteExplain, type RouteExplainDeps } from './route-explain.js'
import { registerTokenRoutes } from './token-routes.js'

export interface AdminDeps extends Omit<RouteExplainDeps, 'servers'> {
  collections: Collections
  nodeTtlS: number
}

export function registerAdminRoutes (app: FastifyInstance, deps: AdminDeps): void {
  const crud: CrudDeps = { auth: deps.auth, audit: deps.collections.audit, now: deps.now }
  for (const spec of adminCollections(deps.collections)) registerCrudRoutes(app, crud, spec)
  registerHeartbeatRoutes(app, { nodes: deps.collections.nodes, now: deps.now, nodeTtlS: deps.nodeTtlS })
  registerRouteExplain(app, { ...deps, servers: deps.collections.servers })
  registerTokenRoutes(app, { auth: deps.auth, collections: deps.collections, now: deps.now })
}
