// Viewers keep watching when their node dies or drains: hls.js (from node_modules) in Debian's
// Chromium plays GET /hls?… of a live stream (ffmpeg → HLS, 1 s segments) through two real nginx
// nodes configured as the README says, from a page on an origin of its own. Two pages play at
// once, one with an unlimited token and one with demo-limited-token (one concurrent stream), so
// that every run also shows one viewer is one session across nodes.
//
//   kill   at 20 s the serving nginx is killed with SIGKILL (and its heartbeats stop); over 60 s
//          of playback currentTime keeps advancing (longest stall at most 2 s), no fatal hls.js
//          error; the limited viewer's move is admitted (no 401/403/429 at the other node),
//          and a second viewer of that account is refused before and after the move
//   drain  the node restarted, the admin drains the serving node through the API: the players
//          move within the steering TTL without a stall (no waiting event after the first
//          playing), and the drained node serves them no segment after TTL + one segment;
//          meanwhile ffmpeg, which ignores steering and takes the first variant, follows the
//          302 and plays 40 s

import { request } from 'undici'
import t, { type Test } from 'tap'
import type { Page } from 'puppeteer-core'
import { launchBrowser, watchedPage, type WatchedPage } from '../../helpers/browser.js'
import { play, startHlsProducer } from '../../helpers/media.js'
import { get, startSystem, type TestSystem } from '../../helpers/system.js'
import { requireTools } from '../../helpers/tools.js'
import { tempDir } from './node-fixture.js'
import { startPageServer, startSteeredNodes, type Seen, type SteeredNode } from './steering-fixture.js'

const TTL_S = 2
const REFRESH_MS = 200
const SEGMENT_S = 1
const KILL_AT_S = 20
const PLAY_S = 60
const DRAIN_AT_S = 8
const FFMPEG_S = 40
const OTHER_VIEWER = '127.0.0.5'

const tools = requireTools(t, ['nginx', 'ffmpeg', 'chromium'])
if (tools !== undefined) {
  const hlsRoot = await tempDir(t, 'steering')
  const [system] = await Promise.all([
    startSystem(t, { config: { steeringTtlS: TTL_S, snapshotRefreshMs: REFRESH_MS, hlsIdleS: 6 } }),
    startHlsProducer(t, tools.ffmpeg, hlsRoot, 'UIN-DEMO-1', 'cam-1')
  ])
  const nodes = await startSteeredNodes(t, tools, system, ['node-steer-a', 'node-steer-b'], { hlsRoot })
  const pages = await startPageServer(t)
  const browser = await launchBrowser(t, tools.chromium)
  const src = (token: string): string => `${system.gatewayUrl}/hls?server=UIN-DEMO-1&camera=cam-1&access_token=${token}`

  const nodeOf = (url: string): SteeredNode | undefined => nodes.find((n) => new URL(url).port === String(n.node.port))
  /** The players of a page, in the order of their tokens. */
  const seenOf = async (page: Page): Promise<Seen[]> => await page.evaluate('window.seen') as Seen[]
  const PLAYERS = [['unlimited viewer', 'demo-viewer-token'], ['demo-limited-token viewer', 'demo-limited-token']] as const

  /** One page on its own origin, one hls.js player per token, side by side. */
  async function open (): Promise<WatchedPage> {
    const watched = await watchedPage(browser, { width: 320, height: 240 })
    await watched.page.goto(pages.pageUrl(PLAYERS.map(([, token]) => src(token))))
    return watched
  }

  async function playing (t: Test, watched: WatchedPage): Promise<number> {
    const deadline = Date.now() + 30_000
    for (;;) {
      const seen = await seenOf(watched.page)
      if (seen.every((s) => s.firstPlaying !== null && s.fragments.length > 0)) return Date.now()
      if (Date.now() > deadline) {
        t.fail(`not playing after 30 s: ${JSON.stringify(seen.map((s) => ({ errors: s.errors, firstPlaying: s.firstPlaying, fragments: s.fragments.length, currentTime: s.currentTime })))}; ${JSON.stringify(watched.problems)}`)
        throw new Error('not playing')
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  const until = async (at: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now()))) }

  /** The node serving each player of a page now: where its last fragment came from. */
  async function servingNodes (page: Page): Promise<Array<SteeredNode | undefined>> {
    return (await seenOf(page)).map((seen) => {
      const last = seen.fragments.at(-1)
      return last === undefined ? undefined : nodeOf(last[1])
    })
  }

  /** A second viewer of demo-limited-token, at another address, while the first watches: refused at the gateway or at the node. */
  async function secondViewerRefused (t: Test, when: string): Promise<void> {
    const answer = await get(src('demo-limited-token'), { from: OTHER_VIEWER })
    if (answer.status === 429) {
      t.pass(`${when}: a second viewer of the one-stream account is refused at the gateway (429)`)
      return
    }
    t.equal(answer.status, 302, `${when}: the second viewer's answer`)
    const playlist = await get(`${system.gatewayUrl}${String(answer.headers.location)}`, { from: OTHER_VIEWER })
    const variant = playlist.body.split('\n').find((line) => line.startsWith('http')) ?? ''
    const atNode = await get(variant, { from: OTHER_VIEWER })
    t.equal(atNode.status, 403, `${when}: a second viewer of the one-stream account is refused at the node`)
  }

  /** The grants' owners of a node's requests, with their statuses: [owner, status, at, uri]. */
  async function requestsAt (node: SteeredNode): Promise<Array<{ owner: string, sid: string, status: number, at: number, uri: string }>> {
    return (await node.node.accessLog()).filter((line) => line.uri.startsWith('/hls/') || line.uri === '/_geogate_verify').flatMap((line) => {
      const grant = line.requestUri.split('/')[2] ?? ''
      try {
        const claims = JSON.parse(Buffer.from(grant.split('.')[1] ?? '', 'base64url').toString('utf8')) as { own: string, sid: string }
        return [{ owner: claims.own, sid: claims.sid, status: line.status, at: line.at, uri: line.uri }]
      } catch {
        return []
      }
    })
  }

  const sidsOf = (seen: Seen): Set<string> => new Set(seen.fragments.map(([, url]) => {
    const grant = new URL(url).pathname.split('/')[2] ?? ''
    return (JSON.parse(Buffer.from(grant.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sid: string }).sid
  }))

  t.test(`kill: the serving nginx SIGKILLed at ${KILL_AT_S} s, ${PLAY_S} s of playback, both viewers move`, async (t) => {
    const page = await open()
    const startedAt = await playing(t, page)
    const [serving, servingLimited] = await servingNodes(page.page)
    if (serving === undefined) throw new Error('no node serves the player')
    t.equal(servingLimited?.id, serving.id, 'both viewers of the camera on one node')
    await secondViewerRefused(t, 'before the move')
    const survivor = nodes.find((n) => n !== serving) as SteeredNode

    await until(startedAt + KILL_AT_S * 1000)
    const killedAt = Date.now()
    const deadOrigin = serving.node.url
    await serving.kill()
    await until(killedAt + 15_000)
    await secondViewerRefused(t, 'after the move')
    await until(startedAt + PLAY_S * 1000)

    const everyone = await seenOf(page.page)
    for (const [i, [name]] of PLAYERS.entries()) {
      const seen = everyone[i] as Seen
      const epochOf = (at: number): number => seen.epoch + at
      const before = seen.fragments.filter(([at]) => epochOf(at) < killedAt).map(([, url]) => nodeOf(url)?.id)
      const after = seen.fragments.filter(([at]) => epochOf(at) > killedAt + 3000).map(([, url]) => nodeOf(url)?.id)
      t.ok(before.length > 10 && before.every((id) => id === serving.id), `${name}: played from ${serving.id} before the kill (${before.length} fragments)`)
      t.ok(after.length > 20 && after.every((id) => id === survivor.id), `${name}: played from ${survivor.id} after it (${after.length} fragments)`)
      t.ok(seen.longestStallMs <= 2000, `${name}: longest stall ${(seen.longestStallMs / 1000).toFixed(1)} s (at most 2 s)`)
      t.ok(seen.currentTime >= PLAY_S - 6, `${name}: currentTime ${seen.currentTime.toFixed(1)} s after ${PLAY_S} s`)
      t.same(seen.errors.filter(([, , , fatal]) => fatal), [], `${name}: no fatal hls.js error`)
      t.comment(`kill, ${name}: ${serving.id} → ${survivor.id}; longest stall ${(seen.longestStallMs / 1000).toFixed(2)} s; ${seen.waiting.length} waiting events; pathways ${seen.pathways.map(([, p]) => p).join(' → ')}`)
    }
    // The page sees its requests to the dead node fail: that is the test, not a problem.
    t.same(page.problems.filter((p) => !p.includes(deadOrigin)), [], 'no other problem on the page')
    const limitedSids = sidsOf(everyone[1] as Seen)
    const limitedAtSurvivor = (await requestsAt(survivor)).filter((r) => r.owner === 'acct-limited' && limitedSids.has(r.sid))
    t.ok(limitedAtSurvivor.length > 20, `the limited viewer's ${limitedAtSurvivor.length} requests at ${survivor.id}`)
    t.same(limitedAtSurvivor.filter((r) => r.uri.startsWith('/hls/') && r.status >= 400), [], 'its move was admitted: no 401, 403 or 429 at the node (a 304 to a revalidated playlist is an answer too)')
    await page.page.close()
  })

  t.test(`drain: the admin drains the serving node; the viewers move within ${TTL_S} s without a stall; ffmpeg plays ${FFMPEG_S} s`, async (t) => {
    await Promise.all(nodes.map(async (n) => { if (!(await isUp(n))) await n.restart() }))
    await system.gateway.refreshSnapshot()
    await sessionsOver(system, 'acct-limited')
    const player = play(t, tools.ffmpeg, src('demo-viewer-token'), FFMPEG_S)
    const page = await open()
    const startedAt = await playing(t, page)
    const [serving] = await servingNodes(page.page)
    if (serving === undefined) throw new Error('no node serves the player')
    const other = nodes.find((n) => n !== serving) as SteeredNode
    await secondViewerRefused(t, 'before the move')

    await until(startedAt + DRAIN_AT_S * 1000)
    const drainedAt = Date.now()
    const res = await request(`${system.gatewayUrl}/api/v1/nodes/${serving.id}`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer demo-admin-token', 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ draining: true })
    })
    t.equal(res.statusCode, 200, 'drained through the admin API')
    await res.body.dump()
    await until(drainedAt + 8000)
    await secondViewerRefused(t, 'after the move')
    const played = await player.done
    t.equal(played.code, 0, `ffmpeg exited cleanly${played.code === 0 ? '' : `: ${played.errors}`}`)
    t.ok(played.seconds >= FFMPEG_S - 0.5, `ffmpeg followed the 302 and decoded ${played.seconds.toFixed(1)} s`)

    const bound = drainedAt + (TTL_S + SEGMENT_S) * 1000 + REFRESH_MS
    const atDrained = await requestsAt(serving)
    const everyone = await seenOf(page.page)
    for (const [i, [name]] of PLAYERS.entries()) {
      const seen = everyone[i] as Seen
      const moved = seen.fragments.find(([at, url]) => seen.epoch + at > drainedAt && nodeOf(url) === other)
      t.ok(moved !== undefined && seen.epoch + moved[0] - drainedAt <= (TTL_S + SEGMENT_S) * 1000 + REFRESH_MS + 1000,
        `${name}: a fragment from ${other.id} ${moved === undefined ? 'never' : `${((seen.epoch + moved[0] - drainedAt) / 1000).toFixed(1)} s after the drain`}`)
      t.same(seen.waiting, [], `${name}: no waiting event after the first playing (stall 0 s)`)
      t.same(seen.errors.filter(([, , , fatal]) => fatal), [], `${name}: no fatal hls.js error`)
      const sids = sidsOf(seen)
      const segments = atDrained.filter((r) => sids.has(r.sid) && r.uri.endsWith('.ts'))
      const last = Math.max(...segments.map((r) => r.at))
      t.same(segments.filter((r) => r.at > bound).map((r) => r.uri), [], `${name}: the drained node served no segment after TTL + one segment (the last ${((last - drainedAt) / 1000).toFixed(1)} s after the drain)`)
      t.comment(`drain, ${name}: ${serving.id} → ${other.id}; longest stall ${(seen.longestStallMs / 1000).toFixed(2)} s; last segment from the drained node ${((last - drainedAt) / 1000).toFixed(1)} s after the drain`)
    }
    t.same(page.problems, [], 'no problem on the page')
    await page.page.close()
  })
}

/** Whether a node's nginx answers. */
async function isUp (node: SteeredNode): Promise<boolean> {
  try {
    const res = await request(`${node.node.url}/`, { headersTimeout: 2000 })
    await res.body.dump()
    return true
  } catch {
    return false
  }
}

/** Waits until the owner has no live session (a closed player's lease runs out after HLS_IDLE_S). */
async function sessionsOver (system: TestSystem, owner: string): Promise<void> {
  const deadline = Date.now() + 20_000
  while (await system.store.collections.sessions.countDocuments({ owner, expires_at: { $gt: new Date() } }) > 0) {
    if (Date.now() > deadline) throw new Error(`${owner} still has a live session`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}
