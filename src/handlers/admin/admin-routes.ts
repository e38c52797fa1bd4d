// The admin API under /api/v1: CRUD with audit, tokens, and the route explainer.

import type { FastifyPluginAsync } from 'fastify'
import type { Collections } from '../../store/mongo.js'
import { adminCollections } from './admin-collections.js'
import { registerCrudRoutes, type CrudDeps } from './crud-routes.js'
import { registerRouteExplain, type RouteExplainDeps } from './route-explain.js'
import { registerTokenRoutes } from './token-routes.js'

export interface AdminDeps extends Omit<RouteExplainDeps, 'servers'> {
  collections: Collections
}

export const adminRoutes: FastifyPluginAsync<AdminDeps> = async (app, deps) => {
  const crud: CrudDeps = { auth: deps.auth, audit: deps.collections.audit, now: deps.now }
  for (const spec of adminCollections(deps.collections)) registerCrudRoutes(app, crud, spec)
  registerRouteExplain(app, { ...deps, servers: deps.collections.servers })
  registerTokenRoutes(app, { auth: deps.auth, collections: deps.collections, now: deps.now })
}
