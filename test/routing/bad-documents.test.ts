// Documents written behind the admin API's back that routing cannot read: each is left out of
// the routing snapshot, told once and counted, while every other change keeps reaching routing
// and the store is still reported as the reachable store it is. Only a configuration with
// nothing to route with keeps the last snapshot, and says why without calling the store down.

import type { Writable } from 'node:stream'
import t from 'tap'
import { request } from 'undici'
import { seedDemoData } from '../../src/demo/seed.js'
import type { GeoGroupDoc, NodeDoc, PartnerDoc } from '../../src/store/documents.js'
import { createRoutingSnapshotSource } from '../../src/routing/routing-snapshot.js'
import { RoutingConfigError, type RefusedDocument } from '../../src/routing/routable-documents.js'
import { get, markDemoNodesAlive, startSystem } from '../helpers/system.js'
import { startTestStore } from '../helpers/store.js'

const MOSCOW = '77.88.8.8'

/** Polls what until it holds, for at most ms; whether it came to hold. */
async function until (what: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await what()) return true
    if (Date.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** A geo group the CIDR matcher refuses: what POST /api/v1/geo-groups answered 201 for. */
const poisonGroup = {
  _id: 'poison',
  name: 'poison',
  coordinates: { lat: 10, lon: 10 },
  match: { countries: [], regions: [], cities: [], cidrs: ['1.2.3.4/99'] },
  fallback: { groups: [], to_closest: false, limit: 0 },
  default: false
} satisfies GeoGroupDoc

t.test('the snapshot source leaves each bad document out, tells it once, and stays healthy', async (t) => {
  const store = await startTestStore(t)
  await seedDemoData(store.collections)
  await markDemoNodesAlive(store)
  const { geoGroups, nodes, partners } = store.collections
  await geoGroups.insertMany([
    poisonGroup,
    { ...poisonGroup, _id: 'text-coordinates', match: { ...poisonGroup.match, cidrs: [] }, coordinates: { lat: '55.7', lon: 37.6 } } as never,
    { ...poisonGroup, _id: 'no-fallback', match: { ...poisonGroup.match, cidrs: [] }, fallback: undefined } as never
  ])
  const moscow1 = await nodes.findOne({ _id: 'node-moscow-1' }) as NodeDoc
  await nodes.insertMany([
    { ...moscow1, _id: 'node-colon-host', host: 'moscow:3' },
    { ...moscow1, _id: 'node-text-seen', last_seen: '2026-01-01' as never },
    { ...moscow1, _id: 'node-no-load', load: undefined as never }
  ])
  await partners.insertOne({ _id: 'no-fallbacks', name: 'x', pattern_fallbacks: null } as unknown as PartnerDoc)

  const told: RefusedDocument[] = []
  const errors: unknown[] = []
  const source = createRoutingSnapshotSource({
    collections: store.collections, refreshMs: 100, watch: false, onRefused: (doc) => told.push(doc), onError: (err) => errors.push(err)
  })
  t.teardown(() => source.close())
  const snapshot = await source.refresh()
  t.ok(source.healthy(), 'the store answered: healthy')
  t.equal(source.configProblem(), undefined)
  const refused = source.refused().map((doc) => `${doc.collection}/${doc.id}`).sort()
  t.same(refused, [
    'geo_groups/no-fallback', 'geo_groups/poison', 'geo_groups/text-coordinates',
    'nodes/node-colon-host', 'nodes/node-no-load', 'nodes/node-text-seen',
    'partners/no-fallbacks'
  ])
  t.match(source.refused().find((doc) => doc.id === 'poison'), { reason: /invalid CIDR "1\.2\.3\.4\/99".*prefix length/ })
  t.same(told.map((doc) => doc.id).sort(), source.refused().map((doc) => doc.id).sort(), 'each told once')
  t.same([...snapshot.geo.groupIds].sort(), ['eu-west', 'ru-central', 'us-east'], 'the good groups route')
  t.ok(snapshot.nodes.nodesById.has('node-moscow-1'))
  t.notOk(snapshot.nodes.nodesById.has('node-no-load'))
  t.ok(snapshot.nodes.partnersById.has('demo'))

  await source.refresh()
  t.equal(told.length, 7, 'a document refused again is not told again')
  await geoGroups.deleteOne({ _id: 'poison' })
  await nodes.updateOne({ _id: 'node-no-load' }, { $set: { load: { sessions: 0, mbps: 0, cpu: 0 } } })
  const fixed = await source.refresh()
  t.equal(source.refused().length, 5, 'fixed documents are no longer refused')
  t.ok(fixed.nodes.nodesById.has('node-no-load'), 'and route again')

  // Nothing left to route with: the last view serves, the store is still reachable.
  await geoGroups.updateMany({}, { $set: { 'coordinates.lat': 'north' } })
  const rejected = await source.refresh().then(() => undefined, (err: unknown) => err)
  t.type(rejected, RoutingConfigError)
  t.match(source.configProblem(), /all 5 geo groups are refused/)
  t.equal(source.current(), fixed, 'the last view keeps serving')
  t.ok(source.healthy(), 'a refused configuration is no store failure')
  t.equal(source.current()?.livenessFrozenAt, undefined, 'and freezes no liveness')
  // The ticks that follow apply heartbeats to the serving view, without reading the refused
  // configuration again until it changes.
  const readAt = source.readAt() ?? 0
  t.ok(await until(() => (source.readAt() ?? 0) > readAt, 10_000), 'liveness still applied')
  t.ok(await until(() => (source.readAt() ?? 0) > readAt + 300, 10_000), 'tick after tick')
  t.equal(errors.length, 0, 'no reload attempted, nothing reported again')
  await geoGroups.updateOne({ _id: 'eu-west' }, { $set: { 'coordinates.lat': 51.5 } })
  const back = await source.refresh()
  t.same(back.geo.groupIds, ['eu-west'], 'a change is read again')
  t.equal(source.configProblem(), undefined)
})

t.test('a gateway with a bad group: routed around, logged, counted; admin changes reach routing; the store is up', async (t) => {
  const lines: string[] = []
  const stream = { write: (line: string) => { lines.push(line) } } as unknown as Writable
  const system = await startSystem(t, {
    config: { snapshotRefreshMs: 250, authTimeoutMs: 5000, resolverTimeoutMs: 5000 },
    logger: { level: 'warn', stream }
  })
  const base = system.gatewayUrl
  const admin = { authorization: 'Bearer demo-admin-token' }
  const viewer = `${base}/flv?server=UIN-DEMO-1&camera=cam-1&access_token=demo-viewer-token&redirect=false`
  const nodeFor = async (): Promise<string> => {
    const answer = await get(viewer, { headers: { 'x-forwarded-for': MOSCOW } })
    return answer.status === 200 ? answer.json().node.id : `${answer.status}`
  }
  const explain = async (): Promise<any> => (await get(`${base}/api/v1/route?ip=${MOSCOW}&server=UIN-DEMO-1&camera=cam-1`, { headers: admin })).json()
  const metrics = async (): Promise<string> => (await get(`${base}/metrics`)).body

  await system.store.collections.geoGroups.insertOne(poisonGroup)
  await system.gateway.refreshSnapshot()
  t.match(await nodeFor(), /^node-moscow-/, 'Moscow viewers go to Moscow')

  const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  const refusals = logged.filter((line) => line.msg === 'stored document refused by the routing snapshot; routing without it')
  t.same(refusals.map(({ collection, id, level }) => ({ collection, id, level })), [{ collection: 'geo_groups', id: 'poison', level: 50 }], 'logged once, as an error')
  // A read may still time out on a busy machine; none may fail for the document.
  const failed = logged.filter((line) => line.msg === 'node snapshot reload failed; serving the last one').map((line) => String(line.err))
  t.same(failed.filter((err) => /poison|CIDR|geo group/.test(err)), [], `no reload failed for the document (${failed.join('; ')})`)

  const ready = await get(`${base}/readyz`)
  t.equal(ready.status, 200)
  t.match(ready.json(), { status: 'ready', store: 'connected', refused_documents: 1 })
  const text = await metrics()
  t.match(text, /^geogate_store_up 1$/m)
  t.match(text, /^geogate_snapshot_refused_documents\{collection="geo_groups",id="poison"\} 1$/m)

  for (const id of ['node-moscow-1', 'node-moscow-2']) {
    const res = await request(`${base}/api/v1/nodes/${id}`, { method: 'PATCH', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ enabled: false }) })
    t.equal(res.statusCode, 200, `${id} disabled`)
    await res.body.dump()
  }
  let last = ''
  t.ok(await until(async () => !(last = await nodeFor()).startsWith('node-moscow-'), 2000), `Moscow viewers leave Moscow within 2 s (last: ${last})`)
  const explained = await explain()
  t.same(explained.candidates.filter((c: { node: string }) => c.node.startsWith('node-moscow-')).map((c: { reason: string }) => c.reason), ['disabled', 'disabled'],
    'the explainer gives the router\'s reason')
  t.equal(explained.chosen?.node ?? '503', last, 'and the router\'s choice')
  t.match((await get(`${base}/readyz`)).json(), { status: 'ready', store: 'connected' })
  t.match(await metrics(), /^geogate_store_up 1$/m)
})
