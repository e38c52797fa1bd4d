// GET /api/v1/openapi.json: a valid OpenAPI 3 document that lists every route the gateway
// serves, with its schemas and the bearer scheme; /docs renders it from the package's assets.

import t from 'tap'
import { Validator } from '@seriousme/openapi-schema-validator'
import { get, startSystem } from '../helpers/system.js'

const system = await startSystem(t)
const base = system.gatewayUrl

/** Every method and path the app serves, from Fastify's own route tree. */
function registeredRoutes (): Array<{ method: string, path: string }> {
  const tree = system.gateway.app.printRoutes({ commonPrefix: false })
  const routes: Array<{ method: string, path: string }> = []
  // Each level of the tree is indented four characters; a child's segment follows its parent's.
  const prefixes: string[] = []
  for (const line of tree.split('\n')) {
    const at = line.indexOf('── ')
    const match = /^(\S*) \(([A-Z, ]+)\)$/.exec(line.slice(at + 3))
    if (at < 0 || match === null) continue
    const depth = (at - 1) / 4
    const path = `${prefixes.slice(0, depth).join('')}${match[1] ?? ''}`
    prefixes[depth] = match[1] ?? ''
    prefixes.length = depth + 1
    for (const method of (match[2] ?? '').split(', ')) routes.push({ method, path })
  }
  return routes
}

// Pages and their assets, not API: left out of the document on purpose.
const notApi = (path: string): boolean => path === '/api/v1/openapi.json' || path.startsWith('/docs') || path.startsWith('/admin')

t.test('the document is valid OpenAPI 3 and lists every route', async (t) => {
  const answer = await get(`${base}/api/v1/openapi.json`)
  t.equal(answer.status, 200)
  const spec = answer.json()
  t.match(spec.openapi, /^3\./)
  const result = await new Validator().validate(spec)
  t.same(result.errors, undefined, 'no validation errors')
  t.equal(result.valid, true, 'valid OpenAPI 3')

  t.same(spec.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer', description: spec.components.securitySchemes.bearer.description })
  // Fastify's printed tree folds a wildcard route's static prefix away (/hls/steer/* prints as
  // /hls*): that one is looked up by its own path below.
  const routes = registeredRoutes().filter((r) => r.method !== 'HEAD' && !notApi(r.path) && r.path !== '/hls*')
  t.ok(spec.paths['/hls/steer/{*}']?.get?.responses?.['200'], 'GET /hls/steer/* (an HLS session\'s playlist and steering manifest) is in the document')
  t.ok(routes.length > 30, `${routes.length} routes found`)
  for (const { method, path } of routes) {
    const openApiPath = path.replace(/:([A-Za-z_]+)/g, '{$1}')
    const operation = spec.paths[openApiPath]?.[method.toLowerCase()]
    t.ok(operation, `${method} ${path} is in the document`)
    if (operation === undefined) continue
    const described = Object.entries(operation.responses ?? {}).filter(([status, r]) => (r as { content?: unknown }).content !== undefined || status === '204' || status === '302')
    t.ok(described.some(([status]) => /^[23]/.test(status)), `${method} ${path} has a described success response`)
    if (path.startsWith('/api/v1/')) {
      t.same(operation.security, [{ bearer: [] }], `${method} ${path} takes a bearer`)
    }
  }
})

t.test('the document carries the schemas that validate', async (t) => {
  const spec = (await get(`${base}/api/v1/openapi.json`)).json()
  const patch = spec.paths['/api/v1/nodes/{id}'].patch
  t.ok(patch.requestBody.content['application/merge-patch+json'], 'PATCH takes a merge patch')
  t.match(patch.responses['200'].content['application/json'].schema.properties.weight, { type: 'number', exclusiveMinimum: 0 })
  const create = spec.paths['/api/v1/nodes'].post.requestBody.content['application/json'].schema
  t.same(create.required.sort(), ['_id', 'group', 'host'], 'a create names only what has no default')
  const audit = spec.paths['/api/v1/audit'].get.parameters.map((p: { name: string }) => p.name).sort()
  t.same(audit, ['before', 'collection', 'id', 'limit'])
  t.ok(spec.paths['/flv'].get.parameters.some((p: { name: string }) => p.name === 'server'), 'stream routes too')
})

t.test('/docs is served from the package, with a strict CSP', async (t) => {
  const page = await get(`${base}/docs/`)
  t.equal(page.status, 200)
  t.match(page.headers['content-security-policy'], /script-src 'self'/)
  t.notMatch(String(page.headers['content-security-policy']), /unsafe-inline/)
  t.notMatch(page.body, /https?:\/\//, 'no external URL in the page')
  const bundle = await get(`${base}/docs/static/swagger-ui-bundle.js`)
  t.equal(bundle.status, 200, 'the UI\'s assets come from the gateway')
  const initializer = await get(`${base}/docs/static/swagger-initializer.js`)
  t.match(initializer.body, /validatorUrl: null/, 'no call to the public validator')
  for (const [what, answer] of [['the page', page], ['a static asset', bundle], ['the initializer', initializer], ['the document it draws', await get(`${base}/docs/json`)]] as const) {
    t.equal(answer.headers['x-content-type-options'], 'nosniff', `${what}: nosniff`)
    t.equal(answer.headers['x-frame-options'], 'DENY', `${what}: no frames`)
  }
  const api = await get(`${base}/healthz`)
  t.equal(api.headers['content-security-policy'], undefined, 'the page\'s headers stay on /docs')
})
