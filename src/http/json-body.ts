// The one JSON body parser of every geogate app (gateway, resolver, auth-server), for
// application/json and application/merge-patch+json: Fastify's own parser (which refuses
// __proto__ and constructor keys) behind a limit on how deeply the body nests. JSON.parse
// itself takes any depth, but what reads the value afterwards recurses (a merge patch, the
// schema check, the serializer), and a body of 10,000 nested objects overflowed the stack
// there: a 500 with a RangeError in the log instead of the client's 400. No document geogate
// takes nests deeper than five levels.
//
// The limit is checked over the text before it is parsed, in one loop of charCodeAt: about a
// microsecond for a heartbeat's 60 bytes, a millisecond for a 1 MiB admin body, and nothing
// for stream requests, which are GETs without a body.

import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { gatewayError } from '../errors.js'

export const MERGE_PATCH_TYPE = 'application/merge-patch+json'

/** The deepest a request body may nest: objects and arrays inside one another. */
export const MAX_JSON_DEPTH = 32

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d

/**
 * Whether the JSON text nests objects and arrays more than `max` deep. Brackets inside strings
 * do not count; the text need not be valid JSON (the parser says what else is wrong with it).
 */
export function nestsDeeperThan (text: string, max: number): boolean {
  // Fewer characters than levels: nothing to count.
  if (text.length <= max) return false
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === BACKSLASH) i++
      else if (c === QUOTE) inString = false
    } else if (c === QUOTE) {
      inString = true
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--
    }
  }
  return false
}

export type JsonBodyParser = (request: FastifyRequest, body: string, done: (err: Error | null, body?: unknown) => void) => void

/** Fastify's JSON parser of app, poisoned keys refused, behind the depth limit. */
export function depthLimitedJsonParser (app: FastifyInstance, maxDepth = MAX_JSON_DEPTH): JsonBodyParser {
  const parse = app.getDefaultJsonParser('error', 'error') as JsonBodyParser
  return (request, body, done) => {
    if (nestsDeeperThan(body, maxDepth)) {
      done(gatewayError('GW_BAD_REQUEST', `the JSON body nests deeper than ${maxDepth} levels`))
      return
    }
    parse(request, body, done)
  }
}

const jsonBodies: FastifyPluginAsync = async (app) => {
  const parser = depthLimitedJsonParser(app)
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parser)
  app.addContentTypeParser(MERGE_PATCH_TYPE, { parseAs: 'string' }, parser)
}

/** Registered by each app right after the error plugin, so that every route parses alike. */
export const jsonBodiesPlugin = fp(jsonBodies, { name: 'geogate-json-bodies', fastify: '5.x' })
