// The collections the admin API edits, with how each body becomes a stored document.

import type { Static } from 'typebox'
import { hashToken } from '../../auth/token-hash.js'
import type { AccountDoc, GeoGroupDoc, NodeDoc, PartnerDoc, TariffDoc } from '../../store/documents.js'
import type { Collections } from '../../store/mongo.js'
import type { AdminCollection } from './crud-routes.js'
import { AccountBody, GeoGroupBody, NodeBody, PartnerBody, TariffBody } from './schemas.js'

type NodeInput = Static<typeof NodeBody>

/** A node as the API shows it: never its key hash. */
export function publicNode (doc: NodeDoc): Omit<NodeDoc, 'key_hash'> & { has_key: boolean } {
  const { key_hash: keyHash, ...rest } = doc
  return { ...rest, has_key: keyHash !== undefined }
}

function storedNode (body: NodeInput, existing: NodeDoc | null): NodeDoc {
  const { key, ...fields } = body
  const keyHash = key !== undefined ? hashToken(key) : existing?.key_hash
  return {
    ...fields,
    ...(keyHash !== undefined && { key_hash: keyHash }),
    // Liveness belongs to the node's heartbeats, not to the admin.
    last_seen: existing?.last_seen ?? null,
    load: existing?.load ?? { sessions: 0, mbps: 0, cpu: 0 }
  }
}

const same = <T>(doc: T): T => doc

export function adminCollections (collections: Collections): Array<AdminCollection<any, any>> {
  const nodes: AdminCollection<NodeDoc, NodeInput> = {
    path: 'nodes', name: 'nodes', collection: collections.nodes, body: NodeBody, toStored: storedNode, toPublic: publicNode
  }
  const geoGroups: AdminCollection<GeoGroupDoc, Static<typeof GeoGroupBody>> = {
    path: 'geo-groups', name: 'geo_groups', collection: collections.geoGroups, body: GeoGroupBody, toStored: same, toPublic: same
  }
  const partners: AdminCollection<PartnerDoc, Static<typeof PartnerBody>> = {
    path: 'partners', name: 'partners', collection: collections.partners, body: PartnerBody, toStored: same, toPublic: same
  }
  const tariffs: AdminCollection<TariffDoc, Static<typeof TariffBody>> = {
    path: 'tariffs', name: 'tariffs', collection: collections.tariffs, body: TariffBody, toStored: same, toPublic: same
  }
  const accounts: AdminCollection<AccountDoc, Static<typeof AccountBody>> = {
    path: 'accounts', name: 'accounts', collection: collections.accounts, body: AccountBody, toStored: same, toPublic: same
  }
  return [nodes, geoGroups, partners, tariffs, accounts]
}
