// Access rules by country: where a camera may be watched from. A rule is `{allow: [ISO…]}` (only
// those countries) or `{deny: [ISO…]}` (every country but those), and may sit on a camera, on an
// account or on a tariff. The narrowest one decides alone, nothing is merged: the camera's, else
// the account's (the account the play is billed to, which is normally the camera's owner),
// else that account's tariff's. So a tariff can say "EU only", an account sold abroad can widen
// or narrow that for all its cameras, and one camera can be closed to one country.
//
// A country that cannot be known (a private address, one the data lacks) passes a deny list and
// fails an allow list: an allow list promises that nobody outside it watches, a deny list only
// keeps out who is known to be in the countries it names.
//
// Checked on every stream request, so a request where nothing has a rule costs three property
// reads and allocates nothing; a refusal's message is built only when there is one.

import { gatewayError, type GatewayError } from '../errors.js'
import type { CountryRule } from '../store/documents.js'

/** Where the rule that decided was found. */
export type GeoRuleSource = 'camera' | 'account' | 'tariff'

/** Something that may carry a rule: a camera, an account, a tariff. */
export interface RuleHolder {
  geo?: CountryRule
}

export interface DecidingGeoRule {
  source: GeoRuleSource
  /** SERVER/CAMERA for a camera; the account's or the tariff's id. */
  id: string
  rule: CountryRule
}

/** The rule that applies, or undefined when none of the three has one. */
export function narrowestGeoRule (camera: RuleHolder | undefined, account: RuleHolder | null | undefined, tariff: RuleHolder | null | undefined): CountryRule | undefined {
  return camera?.geo ?? account?.geo ?? tariff?.geo
}

/**
 * Whether the rule lets in a viewer in country (null: not known). A rule stored by hand with
 * neither list lets everyone in; an allow list that is not a list lets nobody in.
 */
export function countryAllowed (rule: CountryRule, country: string | null): boolean {
  const allow = rule.allow
  if (allow !== undefined) return country !== null && Array.isArray(allow) && allow.includes(country)
  const deny = rule.deny
  return country === null || !Array.isArray(deny) || !deny.includes(country)
}

/** The rule that applies and where it was found, for the explainer and for refusals. */
export function decidingGeoRule (
  camera: RuleHolder | undefined, subject: string, account: (RuleHolder & { _id: string }) | null | undefined, tariff: (RuleHolder & { _id: string }) | null | undefined
): DecidingGeoRule | null {
  if (camera?.geo !== undefined) return { source: 'camera', id: subject, rule: camera.geo }
  if (account?.geo !== undefined) return { source: 'account', id: account._id, rule: account.geo }
  if (tariff?.geo !== undefined) return { source: 'tariff', id: tariff._id, rule: tariff.geo }
  return null
}

/** The refusal of a viewer in country by the rule that decided. */
export function geoBlocked (deciding: DecidingGeoRule | null, country: string | null): GatewayError {
  const where = country === null ? 'from an unknown country' : `in ${country}`
  const whose = deciding === null ? 'the geo rule' : deciding.source === 'camera' ? `camera ${deciding.id}'s geo rule` : `the ${deciding.source}'s geo rule`
  return gatewayError('GW_GEO_BLOCKED', `${whose} does not allow viewers ${where}`)
}
