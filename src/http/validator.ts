// HTTP: how every app checks a request part against its schema. The schema is compiled once;
// a part that already satisfies it is taken as it is, and only a part that does not (a query
// number sent as text) is converted and checked again. Converting first, on every request, walks
// the schema by interpretation and cost the warm redirect about a fifth of its time.

import type { FastifySchemaCompiler } from 'fastify'
import { Compile } from 'typebox/compile'
import { Value } from 'typebox/value'
import type { TSchema } from 'typebox'

/**
 * Compiled checkers by schema object: the schemas are module constants, so an app built again in
 * the same process (replicas in a test, a second listener) reuses the first one's, and the admin
 * API's whole-document check shares them.
 */
const compiled = new WeakMap<TSchema, ReturnType<typeof Compile>>()

export function compileOnce (schema: TSchema): ReturnType<typeof Compile> {
  let validator = compiled.get(schema)
  if (validator === undefined) {
    validator = Compile(schema)
    compiled.set(schema, validator)
  }
  return validator
}

export const checkFirstValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const validator = compileOnce(schema)
  return (value: unknown) => {
    if (validator.Check(value)) return { value }
    // A body is JSON: its types are what the client sent, and are never converted.
    const converted = httpPart === 'body' ? value : Value.Convert(schema, value)
    if (validator.Check(converted)) return { value: converted }
    return { error: validator.Errors(converted) as never }
  }
}
