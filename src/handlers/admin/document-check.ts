// Checks a whole document against its collection's schema after defaults or a patch were
// applied: what a request body's schema cannot see, since the body is only part of it.

import type { TSchema } from 'typebox'
import { gatewayError } from '../../errors.js'
import { compileOnce } from '../../http/validator.js'

/** The first reason doc does not fit schema, worded like a request validation error; undefined if it fits. */
export function documentProblem (schema: TSchema, doc: unknown): string | undefined {
  const validator = compileOnce(schema)
  if (validator.Check(doc)) return undefined
  // 'schema is false' restates an additionalProperties error that names the property better.
  const errors = [...validator.Errors(doc)].filter((e) => e.keyword !== 'boolean')
  const first = errors[0]
  if (first === undefined) return 'the document does not match its schema'
  const where = first.instancePath === '' ? 'document' : first.instancePath.slice(1).replaceAll('/', '.')
  const extra = first.keyword === 'additionalProperties'
    ? ` (${String((first.params as { additionalProperties?: string[] }).additionalProperties?.join(', '))})`
    : ''
  return `${where} ${first.message}${extra}`
}

export function checkDocument (schema: TSchema, doc: unknown): void {
  const problem = documentProblem(schema, doc)
  if (problem !== undefined) throw gatewayError('GW_BAD_REQUEST', problem)
}
