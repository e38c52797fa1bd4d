// What POST fills in for the fields an admin leaves out, so that a node needs only _id, host and
// group. Each collection lists the fields a create must name; the rest have defaults here. The
// same defaults apply after a PATCH, so a field removed with null returns to its default.

import type { TSchema } from 'typebox'
import { streamFormats } from '../../store/documents.js'

export interface CollectionDefaults {
  /** Fields a create must name. */
  required: string[]
  /** Values for fields left out; a function, so no two documents share an array. */
  defaults: (doc: Record<string, unknown>) => Record<string, unknown>
}

export const nodeDefaults: CollectionDefaults = {
  required: ['_id', 'host', 'group'],
  defaults: () => ({
    port: 443,
    tls: true,
    patterns: ['streaming'],
    formats: [...streamFormats],
    weight: 1,
    capacity: { sessions: 1000 },
    partners: [],
    enabled: true,
    draining: false
  })
}

export const geoGroupDefaults: CollectionDefaults = {
  required: ['_id', 'coordinates'],
  defaults: (doc) => ({
    name: doc._id,
    match: { countries: [], regions: [], cities: [], cidrs: [] },
    fallback: { groups: [], to_closest: true, limit: 2 },
    default: false
  })
}

export const partnerDefaults: CollectionDefaults = {
  required: ['_id'],
  defaults: (doc) => ({ name: doc._id, pattern_fallbacks: {} })
}

export const tariffDefaults: CollectionDefaults = {
  required: ['_id'],
  defaults: () => ({ formats: [...streamFormats], patterns: ['streaming'], max_concurrent_streams: null })
}

export const accountDefaults: CollectionDefaults = {
  required: ['_id', 'tariff'],
  defaults: () => ({ status: 'active' })
}

export const serverDefaults: CollectionDefaults = {
  required: ['_id', 'partner', 'owner'],
  defaults: () => ({ dc: '', online: true, cameras: {} })
}

/** doc with every field it lacks taken from the defaults; nested objects are filled too. */
export function withDefaults (spec: CollectionDefaults, doc: Record<string, unknown>): Record<string, unknown> {
  return fill(spec.defaults(doc), doc)
}

function fill (defaults: Record<string, unknown>, doc: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...doc }
  for (const [key, value] of Object.entries(defaults)) {
    const given = result[key]
    if (given === undefined) result[key] = value
    else if (isObject(value) && isObject(given) && Object.keys(value).length > 0) result[key] = fill(value, given)
  }
  return result
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The body schema of a create: the collection's schema with only `required` required. */
export function createSchema (schema: TSchema, spec: CollectionDefaults): TSchema {
  return { ...schema, required: spec.required } as unknown as TSchema
}
