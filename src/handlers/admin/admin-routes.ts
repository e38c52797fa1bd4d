// The admin API under /api/v1: CRUD and merge patches with audit, node keys, tokens, the audit
// trail, who a token is, the route explainer, and the live sessions (listed and ended).

import type { FastifyPluginAsync } from 'fastify'
import type { Collections } from '../../store/mongo.js'
import { adminCollections } from './admin-collections.js'
import { registerCrudRoutes, type CrudDeps } from './crud-routes.js'
import { registerRouteExplain, type RouteExplainDeps } from './route-explain.js'
import { registerTokenRoutes } from './token-routes.js'
import { registerAuditRoutes } from './audit-routes.js'
import { registerNodeKeyRoute } from './node-key-route.js'
import { registerPatchRoute } from './patch-route.js'
import { registerSessionRoute } from './session-route.js'
import { registerLiveSessionsRoutes } from './live-sessions-routes.js'
import type { SessionEnder } from '../../billing/end-session.js'

export interface AdminDeps extends Omit<RouteExplainDeps, 'servers' | 'accounts' | 'tariffs'> {
  collections: Collections
  /** NODE_TTL_S, which the console shows heartbeat ages against. */
  nodeTtlS: number
  /** Ends live sessions and stops their viewers. */
  ender: SessionEnder
}

export const adminRoutes: FastifyPluginAsync<AdminDeps> = async (app, deps) => {
  const crud: CrudDeps = { auth: deps.auth, audit: deps.collections.audit, now: deps.now }
  for (const spec of adminCollections(deps.collections)) {
    registerCrudRoutes(app, crud, spec)
    registerPatchRoute(app, crud, spec)
  }
  registerNodeKeyRoute(app, { ...crud, nodes: deps.collections.nodes })
  registerAuditRoutes(app, { auth: deps.auth, audit: deps.collections.audit })
  registerSessionRoute(app, { auth: deps.auth, nodeTtlS: deps.nodeTtlS })
  registerRouteExplain(app, { ...deps, servers: deps.collections.servers, accounts: deps.collections.accounts, tariffs: deps.collections.tariffs })
  registerTokenRoutes(app, { auth: deps.auth, collections: deps.collections, now: deps.now })
  registerLiveSessionsRoutes(app, { auth: deps.auth, collections: deps.collections, ender: deps.ender, now: deps.now })
}
