// Geo through the whole gateway: one resolver call for a burst from one new address, counted
// on the real resolver app; and a resolver stopped mid-run, its connections dropped as in a
// crash, costs clients nothing.

import t from 'tap'
import { Agent, request } from 'undici'
import { startSystem } from '../helpers/system.js'

const system = await startSystem(t)
const base = system.gatewayUrl
const agent = new Agent({ connections: 256 })
t.teardown(() => agent.close())

async function resolverCalls (): Promise<number> {
  const res = await request(system.resolver.metricsUrl)
  const text = await res.body.text()
  let total = 0
  for (const match of text.matchAll(/^geogate_resolver_lookups_total\{[^}]*\} (\d+)/gm)) total += Number(match[1])
  return total
}

async function stream (ip: string): Promise<{ status: number, group: string | undefined }> {
  const res = await request(`${base}/flv?server=UIN-DEMO-1&camera=cam-1&access_token=demo-viewer-token&redirect=false`, { headers: { 'x-forwarded-for': ip }, dispatcher: agent })
  const body = await res.body.json() as { node?: { group: string } }
  return { status: res.statusCode, group: body.node?.group }
}

t.test('1,000 concurrent requests from one new address make one resolver call', async (t) => {
  await stream('81.2.69.160') // warm the connections, auth and billing caches
  const before = await resolverCalls()
  const answers = await Promise.all(Array.from({ length: 1000 }, () => stream('77.88.8.8')))
  t.equal(answers.filter((a) => a.status === 200 && a.group === 'ru-central').length, 1000, 'every request routed to Moscow')
  t.equal(await resolverCalls() - before, 1, 'exactly one call reached the resolver')
})

t.test('the resolver gone mid-run: every request is still answered, through the fallback', async (t) => {
  // Addresses the gateway has not seen, in groups the bundled database knows.
  const moscow = Array.from({ length: 60 }, (_, i) => `5.255.255.${1 + i}`)
  const london = Array.from({ length: 60 }, (_, i) => `81.2.69.${100 + i}`)
  const statuses: number[] = []
  const groups: Array<string | undefined> = []
  for (let i = 0; i < 60; i++) {
    if (i === 20) await system.resolver.stop()
    const [m, l] = await Promise.all([stream(moscow[i] ?? ''), stream(london[i] ?? '')])
    statuses.push(m.status, l.status)
    groups.push(m.group === 'ru-central' ? 'ok' : m.group, l.group === 'eu-west' ? 'ok' : l.group)
  }
  t.equal(system.resolver.stopped, true, 'the resolver is gone')
  t.same(statuses.filter((s) => s >= 500), [], 'no 5xx')
  t.same(groups.filter((g) => g !== 'ok'), [], 'every client still routed by its location')
  const metrics = await (await request(`${base}/metrics`)).body.text()
  const fallback = /^geogate_geo_lookups_total\{source="fallback"\} (\d+)/m.exec(metrics)
  t.ok(Number(fallback?.[1] ?? 0) >= 80, 'the fallback answered after the resolver died')
})
