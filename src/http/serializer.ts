// HTTP: how every app turns an answer into JSON by its response schema, compiled once a process.
// fast-json-stringify writes each schema's serializer as code, which costs milliseconds a
// schema; the schemas are constants, so a process that builds an app again (a replica in a
// test, the console's routes on a second listener) reuses what the first compiled.

import type { FastifySerializerCompiler } from 'fastify/types/schema.js'
import fastJsonStringify from 'fast-json-stringify'

type Serialize = (data: unknown) => string

/** Compiled serializers by their schema's JSON: schemas are few and fixed, so this stays small. */
const compiled = new Map<string, Serialize>()

export const sharedSerializerCompiler: FastifySerializerCompiler<unknown> = ({ schema }) => {
  const key = JSON.stringify(schema)
  let serialize = compiled.get(key)
  if (serialize === undefined) {
    serialize = fastJsonStringify(schema as Parameters<typeof fastJsonStringify>[0]) as Serialize
    compiled.set(key, serialize)
  }
  return serialize
}
