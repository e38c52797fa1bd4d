// /admin: the web console, static files from the package's console/ folder and the world map
// data the world-atlas package ships, so it works with no network beyond the gateway. Every
// page and asset carries a strict Content-Security-Policy. The console holds no secrets: it
// signs in with a token the admin types, and reads and writes only through /api/v1.

import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'
import { PAGE_HEADERS } from '../docs/page-security.js'
import { packageRoot } from '../package-root.js'

const require = createRequire(import.meta.url)
// From any build of the code alike.
const consoleRoot = path.join(packageRoot(), 'console') + path.sep
const worldAtlas = require.resolve('world-atlas/countries-110m.json')

export async function registerConsole (app: FastifyInstance): Promise<void> {
  app.get('/admin', { schema: { hide: true } }, async (_request, reply) => await reply.redirect('/admin/'))
  await app.register(async (scope) => {
    scope.addHook('onSend', async (_request, reply, payload) => {
      void reply.headers(PAGE_HEADERS)
      return payload
    })
    await scope.register(fastifyStatic, {
      root: consoleRoot,
      prefix: '/admin/',
      decorateReply: false,
      index: 'index.html',
      // A new version of the gateway must not leave an old script in a browser's cache.
      cacheControl: true,
      maxAge: 0,
      schemaHide: true
    })
    // The map's land outlines: Natural Earth 1:110m, ~100 kB, served from the package.
    let world: Promise<Buffer> | undefined
    scope.get('/admin/world-110m.json', { schema: { hide: true } }, async (_request, reply) => {
      world ??= readFile(worldAtlas)
      return await reply.type('application/json').send(await world)
    })
  })
}
