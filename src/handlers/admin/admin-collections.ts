// The collections the admin API edits, with how each body becomes a stored document.

import { randomBytes } from 'node:crypto'
import type { Static } from 'typebox'
import { hashToken } from '../../auth/token-hash.js'
import type { AccountDoc, GeoGroupDoc, NodeDoc, PartnerDoc, ServerDoc, TariffDoc } from '../../store/documents.js'
import type { Collections } from '../../store/mongo.js'
import {
  accountDefaults, geoGroupDefaults, nodeDefaults, partnerDefaults, serverDefaults, tariffDefaults
} from './collection-defaults.js'
import type { AdminCollection } from './crud-routes.js'
import { AccountBody, GeoGroupBody, NodeBody, PartnerBody, TariffBody } from './schemas.js'
import { ServerBody } from './server-schema.js'
import { storedPartner, publicPartner } from './partner-webhooks.js'
import { NodeView, PartnerView } from './view-schemas.js'

type NodeInput = Static<typeof NodeBody>

/**
 * A node as the API shows it: never its key hash; the status its heartbeats reported beside the
 * admin's draining, null until one has.
 */
export function publicNode (doc: NodeDoc): Omit<NodeDoc, 'key_hash' | 'reported_status'> & { has_key: boolean, reported_status: NodeDoc['reported_status'] | null } {
  const { key_hash: keyHash, ...rest } = doc
  return { ...rest, reported_status: doc.reported_status ?? null, has_key: keyHash !== undefined }
}

/** A new heartbeat key: 192 random bits, URL-safe. */
export function generateNodeKey (): string {
  return randomBytes(24).toString('base64url')
}

function storedNode (body: NodeInput, existing: NodeDoc | null): NodeDoc {
  const { key, ...fields } = body
  const keyHash = key !== undefined ? hashToken(key) : existing?.key_hash
  return {
    ...fields,
    ...(keyHash !== undefined && { key_hash: keyHash }),
    // Liveness belongs to the node's heartbeats, not to the admin.
    last_seen: existing?.last_seen ?? null,
    load: existing?.load ?? { sessions: 0, mbps: 0, cpu: 0 },
    ...(existing?.reported_status !== undefined && { reported_status: existing.reported_status })
  }
}

/** A node created without a key gets one, shown in the answer and never again. */
function keyedNode (body: NodeInput): { body: NodeInput, shown: Record<string, unknown> } {
  if (body.key !== undefined) return { body, shown: {} }
  const key = generateNodeKey()
  return { body: { ...body, key }, shown: { key } }
}

const same = <T>(doc: T): T => doc

export function adminCollections (collections: Collections): Array<AdminCollection<any, any>> {
  const nodes: AdminCollection<NodeDoc, NodeInput> = {
    path: 'nodes', name: 'nodes', collection: collections.nodes, body: NodeBody, defaults: nodeDefaults, view: NodeView, toStored: storedNode, toPublic: publicNode, onCreate: keyedNode
  }
  const geoGroups: AdminCollection<GeoGroupDoc, Static<typeof GeoGroupBody>> = {
    path: 'geo-groups', name: 'geo_groups', collection: collections.geoGroups, body: GeoGroupBody, defaults: geoGroupDefaults, toStored: same, toPublic: same
  }
  const partners: AdminCollection<PartnerDoc, Static<typeof PartnerBody>> = {
    path: 'partners', name: 'partners', collection: collections.partners, body: PartnerBody, defaults: partnerDefaults, view: PartnerView, toStored: storedPartner, toPublic: publicPartner
  }
  const tariffs: AdminCollection<TariffDoc, Static<typeof TariffBody>> = {
    path: 'tariffs', name: 'tariffs', collection: collections.tariffs, body: TariffBody, defaults: tariffDefaults, toStored: same, toPublic: same
  }
  const accounts: AdminCollection<AccountDoc, Static<typeof AccountBody>> = {
    path: 'accounts', name: 'accounts', collection: collections.accounts, body: AccountBody, defaults: accountDefaults, toStored: same, toPublic: same
  }
  const servers: AdminCollection<ServerDoc, Static<typeof ServerBody>> = {
    path: 'servers', name: 'servers', collection: collections.servers, body: ServerBody, defaults: serverDefaults, toStored: same, toPublic: same
  }
  return [nodes, geoGroups, partners, tariffs, accounts, servers]
}
