// The schema check every app uses: a part that fits is taken as sent, text in a query is
// converted only when it does not fit as it is, and a JSON body is never converted.

import t from 'tap'
import { Type } from 'typebox'
import { errorPlugin } from '../../src/http/error-plugin.js'
import { buildApp } from '../../src/server.js'

const app = await buildApp(async (instance) => {
  await instance.register(errorPlugin)
  instance.get('/q', {
    schema: { querystring: Type.Object({ n: Type.Integer({ minimum: 1, maximum: 9 }), s: Type.Optional(Type.String()) }, { additionalProperties: false }) }
  }, async (request) => ({ query: request.query }))
  instance.post('/b', {
    schema: { body: Type.Object({ n: Type.Integer() }, { additionalProperties: false }) }
  }, async (request) => ({ body: request.body }))
}, {})
t.teardown(() => app.close())

t.test('a query number sent as text is converted to the schema type', async (t) => {
  const answer = await app.inject({ method: 'GET', url: '/q?n=7&s=12' })
  t.equal(answer.statusCode, 200)
  t.same(answer.json(), { query: { n: 7, s: '12' } }, 'the string field that already fits stays text')
})

t.test('a query that fits neither as sent nor converted is refused', async (t) => {
  for (const url of ['/q?n=70', '/q?n=abc', '/q', '/q?n=1&extra=1']) {
    const answer = await app.inject({ method: 'GET', url })
    t.equal(answer.statusCode, 400, url)
    t.equal(answer.json().error.code, 'GW_BAD_REQUEST', url)
  }
})

t.test('a JSON body is checked as sent, never converted', async (t) => {
  const good = await app.inject({ method: 'POST', url: '/b', payload: { n: 3 } })
  t.equal(good.statusCode, 200)
  t.same(good.json(), { body: { n: 3 } })
  const text = await app.inject({ method: 'POST', url: '/b', payload: { n: '3' } })
  t.equal(text.statusCode, 400, 'a number sent as a JSON string is a mistake, not converted')
})
