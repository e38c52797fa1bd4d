import t from 'tap'
import { grantAllows } from '../../src/auth/grants.js'
import type { Grant } from '../../src/store/documents.js'

const view = (objectId: string): Grant => ({ object_type: 'camera', object_id: objectId, rights: ['view'] })
const ask = (objectId: string, rights = 'view', objectType = 'camera') => ({ rights, object_type: objectType, object_id: objectId })

t.test('an exact object id', async (t) => {
  t.ok(grantAllows([view('UIN-DEMO-1/cam-1')], ask('UIN-DEMO-1/cam-1')))
  t.notOk(grantAllows([view('UIN-DEMO-1/cam-1')], ask('UIN-DEMO-1/cam-2')))
})

t.test('* covers every object of the type', async (t) => {
  t.ok(grantAllows([view('*')], ask('UIN-DEMO-1/cam-1')))
  t.ok(grantAllows([view('*')], ask('anything')))
})

t.test('PREFIX/* covers the ids under the prefix', async (t) => {
  t.ok(grantAllows([view('UIN-DEMO-1/*')], ask('UIN-DEMO-1/cam-1')))
  t.ok(grantAllows([view('UIN-DEMO-1/*')], ask('UIN-DEMO-1/cam-3')))
  t.notOk(grantAllows([view('UIN-DEMO-1/*')], ask('UIN-DEMO-1/')), 'not the bare prefix')
  t.notOk(grantAllows([view('UIN-DEMO-1/*')], ask('UIN-DEMO-1')), 'not the parent')
})

t.test('a prefix is not a string prefix: UIN-DEMO-1/* does not reach UIN-DEMO-10', async (t) => {
  t.notOk(grantAllows([view('UIN-DEMO-1/*')], ask('UIN-DEMO-10/cam-1')))
  t.notOk(grantAllows([view('UIN-DEMO-1*')], ask('UIN-DEMO-10')), 'a * without / is literal')
})

t.test('the right must be granted', async (t) => {
  t.notOk(grantAllows([view('*')], ask('UIN-DEMO-1/cam-1', 'admin')))
  t.ok(grantAllows([{ object_type: 'camera', object_id: '*', rights: ['archive', 'view'] }], ask('x', 'view')))
})

t.test('the object type must match', async (t) => {
  t.notOk(grantAllows([view('*')], ask('UIN-DEMO-1/cam-1', 'view', 'server')))
})

t.test('any one grant of several suffices; none or malformed allow nothing', async (t) => {
  t.ok(grantAllows([view('UIN-2/*'), { object_type: 'gateway', object_id: '*', rights: ['admin'] }], ask('x', 'admin', 'gateway')))
  t.notOk(grantAllows([], ask('x')))
  t.notOk(grantAllows([{ object_type: 'camera', object_id: '*', rights: 'view' } as unknown as Grant], ask('x')))
})
