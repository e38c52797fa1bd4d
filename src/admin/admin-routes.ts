// The admin API under /api/v1: CRUD and merge patches with audit, node keys and heartbeats, the
// audit trail, and the route explainer.

import type { FastifyInstance } from 'fastify'
import type { Collections } from '../store/mongo.js'
import { adminCollections } from './admin-collections.js'
import { registerCrudRoutes, type CrudDeps } from './crud-routes.js'
import { registerHeartbeatRoutes } from './heartbeat-routes.js'
import { registerRouteExplain, type RouteExplainDeps } from './route-explain.js'
import { registerTokenRoutes } from './token-routes.js'
import { registerAuditRoutes } from './audit-routes.js'
import { registerNodeKeyRoute } from './node-key-route.js'
import { registerPatchRoute } from './patch-route.js'
import { registerSessionRoute } from './session-route.js'

export interface AdminDeps extends Omit<RouteExplainDeps, 'servers'> {
  collections: Collections
  nodeTtlS: number
}

export function registerAdminRoutes (app: FastifyInstance, deps: AdminDeps): void {
  const crud: CrudDeps = { auth: deps.auth, audit: deps.collections.audit, now: deps.now }
  for (const spec of adminCollections(deps.collections)) {
    registerCrudRoutes(app, crud, spec)
    registerPatchRoute(app, crud, spec)
  }
  registerNodeKeyRoute(app, { ...crud, nodes: deps.collections.nodes })
  registerAuditRoutes(app, { auth: deps.auth, audit: deps.collections.audit })
  registerSessionRoute(app, { auth: deps.auth, nodeTtlS: deps.nodeTtlS })
  registerHeartbeatRoutes(app, { nodes: deps.collections.nodes, now: deps.now, nodeTtlS: deps.nodeTtlS })
  registerRouteExplain(app, { ...deps, servers: deps.collections.servers })
  registerTokenRoutes(app, { auth: deps.auth, collections: deps.collections, now: deps.now })
}
