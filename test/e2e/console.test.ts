/// <reference lib="dom" />
// The console at /admin in a real browser (Debian's chromium, driven by puppeteer-core) against
// the whole system: sign in, watch the nodes, edit and drain one, explain a Moscow client's
// route, watch the live viewers and end one, and sign out. Every test fails on a console error
// or a failed request in the page.
// UPDATE_SCREENSHOTS=1 also writes the README's screenshots under docs/screenshots/.

import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { request } from 'undici'
import type { ElementHandle, Page } from 'puppeteer-core'
import { hashToken } from '../../src/auth/token-hash.js'
import { demoNodeKey, demoNodes } from '../../src/demo/demo-data.js'
import { accountWithLimit, hookUrl, postJson, testSigner } from '../handlers/node/hook-fixtures.js'
import { launchBrowser, watchedPage, type WatchedPage } from '../helpers/browser.js'
import { startSystem } from '../helpers/system.js'
import { requireTools } from '../helpers/tools.js'

const chromium = requireTools(t, ['chromium'])?.chromium
const ADMIN = 'demo-admin-token'
const VIEWER = 'console-viewer-token'
const screenshots = process.env.UPDATE_SCREENSHOTS === '1' ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url)) : undefined

async function apiGet (base: string, path: string): Promise<any> {
  const res = await request(`${base}/api/v1${path}`, { headers: { authorization: `Bearer ${ADMIN}` } })
  return await res.body.json()
}

async function text (page: Page, selector: string): Promise<string> {
  return await page.$eval(selector, (el) => el.textContent ?? '')
}

async function shoot (page: Page, name: string): Promise<void> {
  if (screenshots === undefined) return
  await mkdir(screenshots, { recursive: true })
  await page.screenshot({ path: `${screenshots}${name}.png` })
}

if (chromium !== undefined) {
  // The plays the Viewers test admits stay live while the file runs: no heartbeat renews a hook
  // play here, and no player keeps an HLS session alive.
  const system = await startSystem(t, { config: { sessionLeaseS: 600, hlsIdleS: 600 } })
  const base = system.gatewayUrl
  await system.store.collections.tokens.insertOne({
    _id: hashToken(VIEWER), owner_type: 'admin', owner_id: 'ops-viewer', grants: [{ object_type: 'gateway', object_id: '*', rights: ['read'] }], expires_at: null
  })
  const browser = await launchBrowser(t, chromium)
  const watched: WatchedPage = await watchedPage(browser)
  const { page } = watched

  const signIn = async (p: Page, token: string): Promise<void> => {
    await p.goto(`${base}/admin/`)
    await p.waitForSelector('#signin-token', { visible: true })
    await p.type('#signin-token', token)
    await p.click('#signin button[type=submit]')
    await p.waitForSelector('#nodes tbody tr')
  }
  const noProblems = (t: Test, w: WatchedPage = watched): void => {
    t.same(w.problems, [], 'no console error or failed request in the page')
    w.problems.length = 0
  }

  t.test('sign in, and see every demo node with its heartbeat age ticking', async (t) => {
    await signIn(page, ADMIN)
    t.equal(await page.evaluate(() => sessionStorage.getItem('geogate.token')), ADMIN, 'the token is in session storage')
    t.equal(await page.evaluate(() => localStorage.length), 0, 'and not in local storage')
    t.notMatch(page.url(), ADMIN, 'nor in the URL')
    for (const node of demoNodes) {
      t.ok(await page.$(`#nodes tr[data-node="${node._id}"]`), `${node._id} is listed`)
      t.equal(await text(page, `#nodes tr[data-node="${node._id}"] td.status`), 'up')
    }
    const ageOf = async (): Promise<string> => await text(page, '#nodes tr[data-node="node-moscow-1"] td.age')
    const first = await ageOf()
    t.match(first, /^\d+ s ago$/)
    await page.waitForFunction((before) => document.querySelector('#nodes tr[data-node="node-moscow-1"] td.age')?.textContent !== before, { timeout: 5000 }, first)
    t.not(await ageOf(), first, 'the heartbeat age ticks')
    await page.waitForFunction(() => /^[1-9]\d* s ago$/.test(document.querySelector('#nodes tr[data-node="node-london-1"] td.age')?.textContent ?? ''), { timeout: 5000 })
    await shoot(page, 'nodes')
    noProblems(t)
  })

  t.test('change a weight inline and see the API return it', async (t) => {
    const input = '#nodes tr[data-node="node-london-1"] input.weight'
    await page.click(input, { clickCount: 3 })
    await page.type(input, '7')
    await page.keyboard.press('Tab')
    await page.waitForFunction(() => /node-london-1: weight 7/.test(document.querySelector('#message.ok')?.textContent ?? ''))
    t.equal((await apiGet(base, '/nodes/node-london-1')).weight, 7, 'the API returns the new weight')
    t.equal(await page.$eval(input, (el) => (el as HTMLInputElement).value), '7')
    noProblems(t)
  })

  t.test('a bad value shows the API\'s error message and changes nothing', async (t) => {
    const before = await apiGet(base, '/nodes/node-london-1')
    const input = '#nodes tr[data-node="node-london-1"] input.weight'
    watched.expectFailure(/\/api\/v1\/nodes\/node-london-1$/)
    await page.click(input, { clickCount: 3 })
    await page.type(input, '-1')
    await page.keyboard.press('Tab')
    await page.waitForSelector('#message.error')
    const shown = await text(page, '#message.error span')
    // The same patch, straight to the API: the page shows its words.
    const direct = await request(`${base}/api/v1/nodes/node-london-1`, { method: 'PATCH', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/merge-patch+json' }, body: '{"weight":-1}' })
    const { error } = await direct.body.json() as { error: { message: string } }
    t.equal(direct.statusCode, 400)
    t.equal(shown, error.message, `the page shows the API's message: ${shown}`)
    // Liveness moves on by itself (the test keeps the demo nodes alive); the rest stays.
    const { last_seen: _seen, ...after } = await apiGet(base, '/nodes/node-london-1')
    const { last_seen: _seenBefore, ...unchanged } = before
    t.same(after, unchanged, 'the node is unchanged')
    await page.waitForFunction((sel) => (document.querySelector(sel) as HTMLInputElement | null)?.value === '7', {}, input)
    t.pass('the field shows the stored weight again')
    noProblems(t)
  })

  const explain = async (p: Page, ip: string): Promise<{ winner: string, candidates: Record<string, string> }> => {
    await p.goto(`${base}/admin/#/explain`)
    await p.waitForSelector('#explain-ip')
    await p.click('#explain-ip', { clickCount: 3 })
    await p.type('#explain-ip', ip)
    await p.$eval('#explain-result', (el) => el.replaceChildren())
    await p.click('form.explain button[type=submit]')
    await p.waitForSelector('#candidates tbody tr')
    await p.waitForSelector('#explain-map .client')
    const candidates = Object.fromEntries(await p.$$eval('#candidates tbody tr', (rows) => rows.map((r) => [(r as HTMLElement).dataset.node ?? '', r.querySelector('.reason')?.textContent ?? ''])))
    const winner = await p.$eval('#candidates tr.chosen', (r) => (r as HTMLElement).dataset.node ?? '')
    return { winner, candidates }
  }

  t.test('explain a route for a Moscow address: the candidates and the winner on the map', async (t) => {
    const { winner, candidates } = await explain(page, '77.88.8.8')
    t.match(winner, /^node-moscow-[12]$/, `a Moscow node wins: ${winner}`)
    t.same(Object.keys(candidates).sort(), ['node-moscow-1', 'node-moscow-2'], 'both Moscow nodes are candidates')
    t.equal(candidates[winner], 'chosen')
    t.match(await text(page, '#explain-location'), /RU/)
    t.match(await text(page, '#explain-groups'), /^ru-central/)
    t.match(await text(page, '#explain-winner'), winner)
    t.equal(await page.$eval('#explain-map circle.node.winner', (c) => (c as SVGElement).dataset.node), winner, 'the winner is marked on the map')
    t.ok(await page.$$eval('#explain-map path.country', (paths) => paths.length) > 100, 'the world is drawn')
    t.ok(await page.$('#explain-map line.route'), 'a line from the client to the winner\'s group')
    await page.evaluate(() => window.scrollTo(0, 0))
    await shoot(page, 'explainer')
    noProblems(t)
  })

  t.test('explain an HLS viewer\'s route: its pathways, in the order the API gives them', async (t) => {
    await page.goto(`${base}/admin/#/explain?ip=77.88.8.8&server=UIN-DEMO-1&camera=cam-1&format=hls`)
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#explain-result dt')).some((dt) => dt.textContent === 'HLS pathways') &&
      document.querySelector('#explain-pathways li') !== null)
    const shown = await page.$$eval('#explain-pathways li', (items) => items.map((li) => (li as HTMLElement).dataset.node ?? ''))
    const answer = await apiGet(base, '/route?ip=77.88.8.8&server=UIN-DEMO-1&camera=cam-1&format=hls')
    t.same(shown, answer.pathways.map((p: { node: string }) => p.node), `listed in order: ${shown.join(', ')}`)
    t.equal(shown[0], answer.chosen.node, 'the chosen node first')
    t.ok(shown.length > 2, 'then the alternates, from the fallback groups too')
    noProblems(t)
  })

  t.test('drain a node and see the explainer stop choosing it', async (t) => {
    const { winner } = await explain(page, '77.88.8.8')
    await page.goto(`${base}/admin/#/nodes`)
    await page.waitForSelector(`#nodes tr[data-node="${winner}"] input.draining`)
    await page.click(`#nodes tr[data-node="${winner}"] input.draining`)
    await page.waitForFunction((id) => new RegExp(`${id}: draining true`).test(document.querySelector('#message.ok')?.textContent ?? ''), {}, winner)
    t.equal((await apiGet(base, `/nodes/${winner}`)).draining, true)
    await system.gateway.refreshSnapshot()
    const after = await explain(page, '77.88.8.8')
    t.not(after.winner, winner, `the explainer now chooses ${after.winner}`)
    t.equal(after.candidates[winner], 'draining', 'and says why not the drained node')

    await page.goto(`${base}/admin/#/nodes`)
    await page.waitForSelector(`#nodes tr[data-node="${winner}"] input.draining`)
    await page.click(`#nodes tr[data-node="${winner}"] input.draining`)
    await page.waitForFunction((id) => new RegExp(`${id}: draining false`).test(document.querySelector('#message.ok')?.textContent ?? ''), {}, winner)
    await system.gateway.refreshSnapshot()
    noProblems(t)
  })

  t.test('a node that reports itself draining: shown beside the admin\'s draining, which stays off', async (t) => {
    const beat = async (status: 'up' | 'draining'): Promise<void> => {
      const res = await request(`${base}/api/v1/nodes/node-moscow-2/heartbeat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${demoNodeKey('node-moscow-2')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sessions: 0, mbps: 0, cpu: 0, status })
      })
      t.equal(res.statusCode, 200, `heartbeat ${status}`)
      await res.body.dump()
    }
    const row = '#nodes tr[data-node="node-moscow-2"]'
    const shows = async (status: string): Promise<void> => {
      await page.waitForFunction((sel, s) => document.querySelector(`${sel} td.reported`)?.textContent === s, { timeout: 10_000 }, row, status)
    }
    await page.goto(`${base}/admin/#/nodes`)
    await page.waitForSelector(`${row} td.reported`)
    await beat('draining')
    // The page polls the API every few seconds.
    await shows('draining')
    t.equal(await text(page, `${row} td.status`), 'draining', 'the node takes no new viewers')
    t.equal(await page.$eval(`${row} input.draining`, (el) => (el as HTMLInputElement).checked), false, 'the admin\'s draining is still off')
    await beat('up')
    await shows('up')
    t.equal(await text(page, `${row} td.status`), 'up')
    noProblems(t)
  })

  t.test('geo groups: rules in a table, groups and nodes on the map', async (t) => {
    await page.goto(`${base}/admin/#/groups`)
    await page.waitForSelector('#groups-map circle.node')
    t.same(await page.$$eval('#groups-map circle.group', (cs) => cs.map((c) => (c as SVGElement).dataset.group).sort()), ['eu-west', 'ru-central', 'us-east'])
    t.equal(await page.$$eval('#groups-map circle.node', (cs) => cs.length), demoNodes.length)
    t.match(await text(page, '#groups tr[data-group="ru-central"] td.rules'), 'countries RU')
    await shoot(page, 'geo-groups')
    noProblems(t)
  })

  t.test('every page opens', async (t) => {
    const pages: Array<[string, string]> = [['servers', 'section.card[data-server="UIN-DEMO-1"]'], ['partners', '#partners tr[data-id="demo"]'], ['tariffs', '#tariffs tr[data-id="unlimited"]'], ['accounts', '#accounts tr[data-id="acct-demo"]'], ['tokens', '#tokens tbody tr'], ['audit', '#audit tbody tr']]
    for (const [hash, selector] of pages) {
      await page.goto(`${base}/admin/#/${hash}`)
      await page.waitForSelector(selector)
      t.pass(`#/${hash} shows ${selector}`)
    }
    t.match(await text(page, '#audit tbody'), 'node-london-1', 'the audit trail holds the console\'s edits')
    noProblems(t)
  })

  t.test('servers: a camera offline and back; tokens: issue one and revoke it', async (t) => {
    const accept = (dialog: { accept: () => Promise<void> }): void => { void dialog.accept() }
    page.on('dialog', accept)
    t.teardown(() => { page.off('dialog', accept) })
    await page.goto(`${base}/admin/#/servers`)
    const camera = 'section.card[data-server="UIN-DEMO-1"] tr[data-camera="cam-2"] input[type=checkbox]'
    await page.waitForSelector(camera)
    await page.click(camera)
    await page.waitForFunction(() => /UIN-DEMO-1\/cam-2 offline/.test(document.querySelector('#message.ok')?.textContent ?? ''))
    t.equal((await apiGet(base, '/servers/UIN-DEMO-1')).cameras['cam-2'].online, false, 'the camera is offline in the API')
    await page.waitForSelector(camera)
    await page.click(camera)
    await page.waitForFunction(() => /UIN-DEMO-1\/cam-2 online/.test(document.querySelector('#message.ok')?.textContent ?? ''))
    t.equal((await apiGet(base, '/servers/UIN-DEMO-1')).cameras['cam-2'].online, true)

    await page.goto(`${base}/admin/#/tokens`)
    await page.waitForSelector('form.issue')
    await page.type('form.issue input[name=owner_id]', 'ops-browser')
    await page.click('form.issue button[type=submit]')
    await page.waitForFunction(() => /token for admin:ops-browser/.test(document.querySelector('#message.ok')?.textContent ?? ''))
    const shown = /copy it now\): (\S+)$/.exec(await text(page, '#message span'))?.[1] ?? ''
    const session = await request(`${base}/api/v1/session`, { headers: { authorization: `Bearer ${shown}` } })
    t.equal(session.statusCode, 200, 'the issued token works')
    t.match(await session.body.json(), { actor: 'admin:ops-browser', can_write: false })
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#tokens tbody th')).some((th) => th.textContent === 'admin:ops-browser'))
    const revoke = (await page.evaluateHandle(() => Array.from(document.querySelectorAll('#tokens tbody tr')).find((r) => r.querySelector('th')?.textContent === 'admin:ops-browser')?.querySelector('button.danger'))).asElement() as ElementHandle<Element> | null
    t.ok(revoke, 'the new token has a Revoke button')
    await revoke?.click()
    await page.waitForFunction(() => /token of admin:ops-browser revoked/.test(document.querySelector('#message.ok')?.textContent ?? ''))
    t.equal(await system.store.collections.tokens.countDocuments({ owner_id: 'ops-browser' }), 0, 'revoked')
    noProblems(t)
  })

  t.test('viewers: live counts and sessions, filtered by node, one ended with its slot freed and audited', async (t) => {
    // An account of three streams whose token (known to the store, so no guard ends its plays)
    // feeds two hook plays on a Moscow node and an HLS session on the London node.
    const owner = await accountWithLimit(system, 3)
    const PLAY_TOKEN = 'console-play-token'
    const tid = hashToken(PLAY_TOKEN)
    await system.store.collections.tokens.insertOne({
      _id: tid, owner_type: 'account', owner_id: owner, grants: [{ object_type: 'camera', object_id: 'UIN-DEMO-1/*', rights: ['view'] }], expires_at: null
    })
    const signer = testSigner(Date.now)
    let jti = 0
    const srsPlay = async (node: string, camera: string, clientId: string, ip: string): Promise<number> => {
      const sig = signer.sign({ own: owner, tid, aud: node, sub: `UIN-DEMO-1/${camera}`, jti: `console-${++jti}` })
      const answer = await postJson(hookUrl(system, '/hooks/srs', node, demoNodeKey(node)), {
        action: 'on_play', client_id: clientId, ip, app: 'live', stream: `UIN-DEMO-1_${camera}`, param: `?server=UIN-DEMO-1&camera=${camera}&sig=${sig}`
      })
      return answer.json().code
    }
    t.equal(await srsPlay('node-moscow-1', 'cam-1', 'console-srs-1', '77.88.8.8'), 0, 'a play on node-moscow-1')
    t.equal(await srsPlay('node-moscow-1', 'cam-2', 'console-srs-2', '77.88.8.9'), 0, 'another, of cam-2')
    const grant = signer.sign({ own: owner, tid, aud: 'node-london-1', fmt: 'hls', jti: `console-${++jti}` })
    const verifyHls = async (): Promise<{ statusCode: number, body: string }> => {
      const res = await request(`${base}/verify`, {
        headers: { 'x-original-uri': `/hls/${grant}/UIN-DEMO-1/cam-1/index.m3u8`, 'x-geogate-node': 'node-london-1', 'x-real-ip': '81.2.69.160', authorization: `Bearer ${demoNodeKey('node-london-1')}` }
      })
      return { statusCode: res.statusCode, body: await res.body.text() }
    }
    const rows = async (): Promise<Array<{ node: string, cells: string[] }>> => await page.$$eval('#viewers tbody tr[data-session]', (trs) => trs.map((tr) => ({
      node: (tr as HTMLElement).dataset.node ?? '', cells: Array.from(tr.children).map((c) => c.textContent ?? '')
    })))
    const shown = async (n: number): Promise<void> => {
      await page.waitForFunction((n) => document.querySelectorAll('#viewers tbody tr[data-session]').length === n, { timeout: 10_000 }, n)
    }
    await page.goto(`${base}/admin/#/viewers`)
    await shown(2)
    t.equal(await text(page, '#viewer-nodes tr[data-key="node-moscow-1"] td.sessions'), '2')

    t.equal((await verifyHls()).statusCode, 204, 'an HLS session on node-london-1')
    // The page asks again every few seconds, as the Nodes page does.
    await shown(3)
    t.pass('the new session shows without a reload')
    t.not(await srsPlay('node-moscow-2', 'cam-1', 'console-srs-4', '77.88.8.10'), 0, 'a fourth viewer is refused: the account\'s three streams are taken')
    const count = async (table: string, key: string): Promise<string> => await text(page, `#${table} tr[data-key="${key}"] td.sessions`)
    t.equal(await count('viewer-nodes', 'node-moscow-1'), '2', 'two viewers on node-moscow-1')
    t.equal(await count('viewer-nodes', 'node-london-1'), '1', 'one on node-london-1')
    t.equal(await count('viewer-cameras', 'UIN-DEMO-1/cam-1'), '2', 'two of cam-1')
    t.equal(await count('viewer-cameras', 'UIN-DEMO-1/cam-2'), '1', 'one of cam-2')
    t.equal(await count('viewer-accounts', owner), '3', `three of ${owner}`)
    const london = (await rows()).find((r) => r.node === 'node-london-1')
    t.match(london?.cells, [/hls$/, owner, `${tid.slice(0, 12)}…`, 'UIN-DEMO-1/cam-1', 'node-london-1', 'hls', '81.2.69.160 (GB)', /s ago$/, /s ago$/, 'End'], 'the HLS session: account, token id, camera, node, format, viewer and country, started, last seen')
    t.notMatch(await text(page, '#viewers'), PLAY_TOKEN, 'the token itself is never shown')
    noProblems(t)

    await page.click('#viewers-node', { clickCount: 3 })
    await page.type('#viewers-node', 'node-london-1')
    await page.click('form.filters button[type=submit]')
    await page.waitForFunction(() => document.querySelectorAll('#viewers tbody tr[data-session]').length === 1)
    t.same((await rows()).map((r) => r.node), ['node-london-1'], 'filtered by node, the table holds the London session alone')
    t.same(await page.$$eval('#viewer-nodes tbody tr[data-key]', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.key)), ['node-london-1'], 'and the counts follow the filter')
    t.match(page.url(), /#\/viewers\?node=node-london-1$/, 'the filter is in the address')

    const questions: string[] = []
    let answer = false
    const onDialog = (dialog: { message: () => string, accept: () => Promise<void>, dismiss: () => Promise<void> }): void => {
      questions.push(dialog.message())
      void (answer ? dialog.accept() : dialog.dismiss())
    }
    page.on('dialog', onDialog)
    t.teardown(() => { page.off('dialog', onDialog) })
    await page.click('#viewers tbody tr[data-node="node-london-1"] button.end')
    t.match(questions, [new RegExp(`^End the HLS session of ${owner} on node-london-1`)], 'End asks first')
    t.equal((await apiGet(base, `/sessions?account=${owner}`)).counts.total, 3, 'and a No ends nothing')

    answer = true
    await page.click('#viewers tbody tr[data-node="node-london-1"] button.end')
    await page.waitForFunction(() => /HLS session of .* on node-london-1 ended, its slot is free; its player is refused/.test(document.querySelector('#message.ok')?.textContent ?? ''))
    await page.waitForFunction(() => document.querySelectorAll('#viewers tbody tr[data-session]').length === 0)
    t.pass('the row is gone')
    t.equal((await apiGet(base, `/sessions?account=${owner}`)).counts.total, 2, 'the API lists two')
    t.match(await verifyHls(), { statusCode: 403, body: /GW_SESSION_ENDED/ }, 'its player is refused')
    t.equal(await srsPlay('node-moscow-2', 'cam-1', 'console-srs-4', '77.88.8.10'), 0, 'its slot is free: the fourth viewer plays now')

    const audit = await apiGet(base, '/audit?collection=sessions&limit=5')
    const end = audit.items.find((e: any) => e.action === 'end')
    t.match(end, { actor: 'admin:demo-admin', action: 'end', collection: 'sessions', before: { node: 'node-london-1', account: owner, kind: 'hls' }, after: { end_reason: 'ended' } }, 'the audit trail says who ended what')
    await page.goto(`${base}/admin/#/audit`)
    await page.waitForSelector('#audit tbody tr')
    const entry = await page.$$eval('#audit tbody tr', (trs, id) => trs.map((tr) => Array.from(tr.children).map((c) => c.textContent ?? '')).find((cells) => cells[4] === id), end.id)
    t.match(entry, [/./, 'admin:demo-admin', 'end', 'sessions', end.id, /end_reason: ∅ → "ended"/], 'and the audit page shows it')
    noProblems(t)
  })

  t.test('viewers: more sessions than a page, walked through with Next and Previous', async (t) => {
    const owner = await accountWithLimit(system, null)
    const tid = hashToken('console-paging-token')
    await system.store.collections.tokens.insertOne({ _id: tid, owner_type: 'account', owner_id: owner, grants: [{ object_type: 'camera', object_id: 'UIN-DEMO-1/*', rights: ['view'] }], expires_at: null })
    const signer = testSigner(Date.now)
    // One more than the page's 50.
    for (let i = 0; i < 51; i++) {
      const sig = signer.sign({ own: owner, tid, aud: 'node-us-1', jti: `console-paging-${i}` })
      const answer = await postJson(hookUrl(system, '/hooks/srs', 'node-us-1', demoNodeKey('node-us-1')), {
        action: 'on_play', client_id: `console-paging-${String(i).padStart(2, '0')}`, ip: '8.8.8.8', app: 'live', stream: 'UIN-DEMO-1_cam-1', param: `?server=UIN-DEMO-1&camera=cam-1&sig=${sig}`
      })
      if (answer.json().code !== 0) throw new Error(`play ${i} refused: ${answer.body}`)
    }
    const ids = async (): Promise<string[]> => await page.$$eval('#viewers tbody tr[data-session]', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.session ?? ''))
    await page.goto(`${base}/admin/#/viewers?account=${owner}`)
    await page.waitForFunction(() => document.querySelectorAll('#viewers tbody tr[data-session]').length === 50)
    t.equal(await page.$eval('#viewers-account', (el) => (el as HTMLInputElement).value), owner, 'the filter comes from the address')
    t.equal(await text(page, '#viewer-accounts td.sessions'), '51', 'the count is of every session, not of the page')
    const firstPage = await ids()
    t.ok(await page.$eval('#viewers-next', (el) => !(el as HTMLElement).hidden), 'a Next button')
    await page.click('#viewers-next')
    await page.waitForFunction(() => document.querySelectorAll('#viewers tbody tr[data-session]').length === 1)
    const secondPage = await ids()
    t.notOk(secondPage.some((id) => firstPage.includes(id)), 'the next page holds the one left over')
    t.same([...firstPage, ...secondPage].sort(), (await apiGet(base, `/sessions?account=${owner}`)).items.map((s: any) => s.id).sort(), 'the two pages hold them all')
    t.equal(await text(page, '.pager .page-info'), 'page 2')
    t.ok(await page.$eval('#viewers-next', (el) => (el as HTMLElement).hidden), 'and no Next on the last page')
    await page.click('.pager button.previous')
    await page.waitForFunction(() => document.querySelectorAll('#viewers tbody tr[data-session]').length === 50)
    t.same(await ids(), firstPage, 'Previous goes back')
    noProblems(t)
  })

  t.test('viewers: a read-only token sees the sessions and no End button', async (t) => {
    const viewer = await watchedPage(browser)
    await signIn(viewer.page, VIEWER)
    await viewer.page.goto(`${base}/admin/#/viewers`)
    await viewer.page.waitForSelector('#viewers tbody tr[data-session]')
    t.ok((await viewer.page.$$('#viewers tbody tr[data-session]')).length >= 2, 'the live sessions are listed')
    t.equal((await viewer.page.$$('#viewers button, #viewers td.actions')).length, 0, 'with no End button')
    noProblems(t, viewer)
    await viewer.page.close()
  })

  t.test('a read-only token sees everything and no edit controls', async (t) => {
    const viewer = await watchedPage(browser)
    await signIn(viewer.page, VIEWER)
    t.match(await text(viewer.page, '#actor'), 'read only')
    const editControls = 'details.editor, button.danger, form.inline-create, form.issue, table input, button.secondary'
    const pages: Array<[string, string]> = [['nodes', '#nodes tbody tr'], ['groups', '#groups tbody tr'], ['servers', 'section.card'], ['partners', '#partners tbody tr'], ['tariffs', '#tariffs tbody tr'], ['accounts', '#accounts tbody tr'], ['tokens', '#tokens tbody tr']]
    for (const [hash, selector] of pages) {
      await viewer.page.goto(`${base}/admin/#/${hash}`)
      await viewer.page.waitForSelector(selector)
      t.equal((await viewer.page.$$(editControls)).length, 0, `no edit controls on #/${hash}`)
      if (hash === 'nodes') t.equal(await text(viewer.page, '#nodes tr[data-node="node-moscow-1"] td.weight'), '10', 'weights are shown as text')
    }
    noProblems(t, viewer)
    await viewer.page.close()
  })

  t.test('the console is usable 390 px wide', async (t) => {
    const narrow = await watchedPage(browser, { width: 390, height: 844 })
    await signIn(narrow.page, ADMIN)
    t.ok(await narrow.page.evaluate(() => document.documentElement.scrollWidth <= 390), 'the page itself does not scroll sideways')
    t.ok(await narrow.page.$eval('#nav', (nav) => nav.getBoundingClientRect().right <= 390), 'the navigation fits')
    const input = '#nodes tr[data-node="node-us-1"] input.weight'
    await narrow.page.$eval(input, (el) => el.scrollIntoView())
    await narrow.page.click(input, { clickCount: 3 })
    await narrow.page.type(input, '4')
    await narrow.page.keyboard.press('Tab')
    await narrow.page.waitForFunction(() => /node-us-1: weight 4/.test(document.querySelector('#message.ok')?.textContent ?? ''))
    t.equal((await apiGet(base, '/nodes/node-us-1')).weight, 4, 'a weight can be edited on a phone')
    await narrow.page.goto(`${base}/admin/#/explain?ip=77.88.8.8&server=UIN-DEMO-1&camera=cam-1&format=flv`)
    await narrow.page.waitForSelector('#explain-map .client')
    t.ok(await narrow.page.evaluate(() => document.documentElement.scrollWidth <= 390), 'the explainer fits too')
    noProblems(t, narrow)
    await narrow.page.close()
  })

  t.test('/docs renders offline, every asset from the gateway', async (t) => {
    const docs = await watchedPage(browser)
    await docs.page.goto(`${base}/docs/`)
    // Drawing 60 operations is seconds of work on a loaded machine; what is tested is that it draws.
    await docs.page.waitForSelector('.swagger-ui .opblock', { timeout: 60_000 })
    t.ok((await docs.page.$$('.swagger-ui .opblock')).length > 30, 'every operation is drawn')
    noProblems(t, docs)
    await docs.page.close()
  })

  t.test('sign out clears the token', async (t) => {
    await page.bringToFront()
    await page.goto(`${base}/admin/#/nodes`)
    await page.waitForSelector('#signout', { visible: true })
    await page.click('#signout')
    await page.waitForSelector('#signin-token', { visible: true })
    t.equal(await page.evaluate(() => sessionStorage.getItem('geogate.token')), null, 'session storage no longer holds it')
    t.equal(await page.$$eval('#page *', (els) => els.length), 0, 'no data left on the page')
    await page.reload()
    await page.waitForSelector('#signin-token', { visible: true })
    t.ok(await page.$eval('#nav', (nav) => (nav as HTMLElement).hidden), 'a reload asks to sign in again')
    noProblems(t)
  })
}
