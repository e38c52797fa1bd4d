// The geo rule again where a node reports its viewer (GET /verify's X-Real-IP, a play hook's
// address): a signed URL handed to someone in another country is refused there, as the redirect
// would have refused them (src/geo/geo-rules.ts).
//
// /verify runs for every HLS segment, so this reads no store on its way: the camera's rule
// comes from the server directory's cache and the account's and tariff's from billing's, the
// last value kept even past its TTL while a reload runs in the background (peekLatest), and the
// country from the gateway's own MaxMind City database, in memory. Only a check that finds
// nothing kept (the first of an account or server on this replica) waits for the store. When no
// rule applies, the address is not even looked up.

import type { BillingChecker } from '../../billing/check-limits.js'
import type { AccountLimits } from '../../billing/decide-limits.js'
import { cachedValue } from '../../cache/cached-lookup.js'
import type { ServerDirectory } from '../../directory/server-directory.js'
import type { GatewayError } from '../../errors.js'
import { countryAllowed, decidingGeoRule, geoBlocked, narrowestGeoRule } from '../../geo/geo-rules.js'
import type { StreamClaims } from '../../signing/stream-signature.js'
import type { ServerDoc } from '../../store/documents.js'

export interface ViewerGeoDeps {
  billing: Pick<BillingChecker, 'peekAccount' | 'loadAccount'>
  servers: Pick<ServerDirectory, 'peekServer' | 'loadServer'>
  /** The address's country from the local database; null when it cannot say. */
  countryOf: (address: string) => string | null
}

export interface ViewerGeo {
  /**
   * The refusal of a viewer at address watching what claims grant, or undefined when the rule
   * lets them in; at once when the rules are cached, else a promise. Rejects with
   * GW_DEPENDENCY_DOWN when the rules must be loaded and the store cannot answer.
   */
  check: (claims: Pick<StreamClaims, 'own' | 'sub'>, address: string) => GatewayError | undefined | Promise<GatewayError | undefined>
}

export function createViewerGeo (deps: ViewerGeoDeps): ViewerGeo {
  function decide (claims: Pick<StreamClaims, 'sub'>, cameraId: string, server: ServerDoc | null, limits: AccountLimits, address: string): GatewayError | undefined {
    const camera = server !== null && Object.hasOwn(server.cameras, cameraId) ? server.cameras[cameraId] : undefined
    const rule = narrowestGeoRule(camera, limits.account, limits.tariff)
    if (rule === undefined) return undefined
    const country = deps.countryOf(address)
    if (countryAllowed(rule, country)) return undefined
    return geoBlocked(decidingGeoRule(camera, claims.sub, limits.account, limits.tariff), country)
  }

  return {
    check (claims, address) {
      const slash = claims.sub.indexOf('/')
      const serverId = slash < 0 ? claims.sub : claims.sub.slice(0, slash)
      const cameraId = slash < 0 ? '' : claims.sub.slice(slash + 1)
      const limits = cachedValue(deps.billing.peekAccount(claims.own))
      const server = cachedValue(deps.servers.peekServer(serverId))
      if (limits !== undefined && server !== undefined) return decide(claims, cameraId, server.doc, limits, address)
      return Promise.all([
        limits ?? deps.billing.loadAccount(claims.own),
        server ?? deps.servers.loadServer(serverId)
      ]).then(([loaded, found]) => decide(claims, cameraId, found.doc, loaded, address))
    }
  }
}
