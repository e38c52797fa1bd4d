// Every app of a process shares its compiled serializers and checkers: building an app again
// (replicas in one test process, a second listener) compiles nothing twice, and each answer is
// still written by its own route's schema.

import t from 'tap'
import { Type } from 'typebox'
import { buildApp } from '../../src/server.js'

const Answer = Type.Object({ id: Type.String(), count: Type.Integer() })
const Query = Type.Object({ n: Type.Integer({ minimum: 1 }) })

async function app (): Promise<Awaited<ReturnType<typeof buildApp>>> {
  return await buildApp(async (app) => {
    app.get('/thing', { schema: { querystring: Query, response: { 200: Answer } } }, async (request) => {
      const { n } = request.query as { n: number }
      return { id: 'x', count: n, secret: 'not in the schema' }
    })
  }, {})
}

t.test('two apps answer by the same schema, and neither writes what the schema leaves out', async (t) => {
  const first = await app()
  const second = await app()
  t.teardown(async () => { await first.close(); await second.close() })
  for (const built of [first, second]) {
    const ok = await built.inject({ url: '/thing?n=3' })
    t.equal(ok.statusCode, 200)
    t.same(JSON.parse(ok.body), { id: 'x', count: 3 }, 'the response schema writes only its own fields')
    const bad = await built.inject({ url: '/thing?n=zero' })
    t.equal(bad.statusCode, 400, 'a query the schema refuses is refused by each app')
  }
})

t.test('an equal schema gets the serializer already compiled', async (t) => {
  const { sharedSerializerCompiler } = await import('../../src/http/serializer.js')
  const a = sharedSerializerCompiler({ schema: Answer, method: 'GET', url: '/a', httpStatus: '200' })
  const b = sharedSerializerCompiler({ schema: structuredClone(Answer), method: 'GET', url: '/b', httpStatus: '200' })
  t.equal(a, b)
  const other = sharedSerializerCompiler({ schema: Type.Object({ id: Type.String() }), method: 'GET', url: '/c', httpStatus: '200' })
  t.not(other, a)
  t.equal(other({ id: 'y', count: 1 }), '{"id":"y"}')
})
