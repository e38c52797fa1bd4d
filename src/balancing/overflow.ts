// Where a stream goes when no node in the whole fallback chain can take it: the bypass
// destination of Traffic Router, here a URL a partner or a geo group names (a second CDN, an
// origin of last resort). The partner's wins over the group's: the partner's streams are its
// own business, and it may have a CDN of its own for them. The group is the client's, or the
// default group when the client's is unknown.
//
// The client is sent there with the stream's server, camera and format in the query, unsigned:
// geogate has no key the other side knows.

import type { StreamFormat } from '../store/documents.js'
import { type Snapshot } from './snapshot.js'

export interface OverflowTarget {
  /** The URL as configured. */
  readonly url: string
  readonly from: 'partner' | 'group'
  /** The partner's or the group's id. */
  readonly id: string
}

/**
 * Whether url can be an overflow target: http(s), parsed as overflowUrl parses it. The admin API
 * accepts only such URLs; a document written behind its back may hold anything, which is then
 * ignored here.
 */
export function usableOverflowUrl (url: unknown): url is string {
  return typeof url === 'string' && /^https?:/i.test(url) && URL.canParse(url)
}

/** The overflow for a request of partner from group, or null when neither names one. */
export function overflowTarget (snapshot: Snapshot, partner: string, group: string): OverflowTarget | null {
  const byPartner = snapshot.partnersById.get(partner)?.overflow_url
  if (usableOverflowUrl(byPartner)) return { url: byPartner, from: 'partner', id: partner }
  const groupId = snapshot.groupsById.has(group) ? group : snapshot.defaultGroup
  if (groupId === null) return null
  const byGroup = snapshot.groupsById.get(groupId)?.overflow_url
  if (usableOverflowUrl(byGroup)) return { url: byGroup, from: 'group', id: groupId }
  return null
}

/** The target's URL with server, camera and format set in its query (replacing any there). */
export function overflowUrl (target: OverflowTarget, server: string, camera: string, format: StreamFormat): string {
  const url = new URL(target.url)
  url.searchParams.set('server', server)
  url.searchParams.set('camera', camera)
  url.searchParams.set('format', format)
  return url.href
}
