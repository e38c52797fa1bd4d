// The console as files and headers: served from the package under /admin with a strict
// Content-Security-Policy, nothing inline, nothing fetched from elsewhere, the token kept out
// of local storage and URLs.

import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { get, startSystem } from '../helpers/system.js'

const root = fileURLToPath(new URL('../../console/', import.meta.url))

async function consoleFiles (dir = root): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  const nested = await Promise.all(entries.map(async (e) => e.isDirectory() ? await consoleFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]))
  return nested.flat()
}

t.test('the files: nothing inline, nothing from elsewhere, no local storage', async (t) => {
  const files = await consoleFiles()
  t.ok(files.some((f) => f.endsWith('index.html')))
  for (const file of files) {
    const text = await readFile(file, 'utf8')
    const name = path.relative(root, file)
    t.notMatch(text, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, `${name}: no URL to elsewhere`)
    t.notMatch(text, /\blocalStorage\s*[.[]|document\.cookie|innerHTML|outerHTML|insertAdjacentHTML|eval\(|new Function/, `${name}: no local storage, cookies or HTML parsing`)
    if (file.endsWith('.html')) {
      t.notMatch(text, /<script(?![^>]*\ssrc=)[^>]*>/, `${name}: every script is a file`)
      t.notMatch(text, /<style|\sstyle=|\son[a-z]+=/i, `${name}: no inline style or handler`)
    }
  }
})

t.test('served under /admin with a strict CSP', async (t) => {
  const system = await startSystem(t)
  const base = system.gatewayUrl
  const bare = await get(`${base}/admin`)
  t.equal(bare.status, 302)
  t.equal(bare.headers.location, '/admin/')
  for (const asset of ['/admin/', '/admin/app.js', '/admin/console.css', '/admin/pages/nodes.js', '/admin/world-110m.json']) {
    const answer = await get(`${base}${asset}`)
    t.equal(answer.status, 200, `${asset} is served`)
    const csp = String(answer.headers['content-security-policy'])
    t.match(csp, /default-src 'self'/, `${asset} has the CSP`)
    t.match(csp, /script-src 'self'(;|$)/)
    t.match(csp, /style-src 'self'(;|$)/)
    t.notMatch(csp, /unsafe-inline|unsafe-eval|\*/)
    t.equal(answer.headers['x-content-type-options'], 'nosniff')
  }
  const world = (await get(`${base}/admin/world-110m.json`)).json()
  t.equal(world.type, 'Topology', 'the map data is the world-atlas TopoJSON')
  t.ok(world.objects.countries.geometries.length > 100)
  t.notOk((await get(`${base}/healthz`)).headers['content-security-policy'], 'the page hooks stay on the pages: API and stream answers carry none')
  for (const probe of ['/admin/../package.json', '/admin/%2e%2e/package.json', '/admin/missing.js']) {
    t.equal((await get(`${base}${probe}`)).status, 404, `${probe} is not served`)
  }
})
