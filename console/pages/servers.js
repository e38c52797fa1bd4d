// Video servers and their cameras: a camera switched online or offline with one PATCH, cameras
// added and removed, servers created and deleted.

import { api } from '../api.js'
import { h, replace, table } from '../dom.js'
import { confirmButton, createForm, jsonEditor } from './editor.js'

export async function serversPage (ctx) {
  const { root, canWrite, notify } = ctx
  const render = async () => {
    const { items } = await api('GET', '/servers')
    const patch = (server, change, done) => async () => {
      try {
        await api('PATCH', `/servers/${encodeURIComponent(server._id)}`, change)
        notify(done, 'ok')
      } catch (err) {
        notify(err)
      }
      await render()
    }
    const cards = items.map((server) => {
      const cameras = Object.entries(server.cameras).sort(([a], [b]) => a.localeCompare(b))
      const rows = cameras.map(([id, camera]) => h('tr', { dataset: { camera: id } },
        h('th', { scope: 'row' }, id),
        h('td', {}, canWrite
          ? h('input', { type: 'checkbox', checked: camera.online, 'aria-label': `${id} online`, onchange: (e) => patch(server, { cameras: { [id]: { online: e.target.checked } } }, `${server._id}/${id} ${e.target.checked ? 'online' : 'offline'}`)() })
          : (camera.online ? 'online' : 'offline')),
        h('td', {}, camera.streams.join(', ') || '—'),
        h('td', { class: 'actions' }, canWrite && confirmButton('Remove', `Remove camera ${id} from ${server._id}?`, patch(server, { cameras: { [id]: null } }, `${server._id}/${id} removed`), notify, { class: 'danger' }))))
      const addCamera = canWrite && h('form', {
        class: 'inline-create',
        onsubmit: (event) => {
          event.preventDefault()
          const id = event.currentTarget.elements.camera.value.trim()
          patch(server, { cameras: { [id]: { online: true, streams: ['main'] } } }, `${server._id}/${id} added`)()
        }
      }, h('label', {}, 'Camera ', h('input', { name: 'camera', required: true, placeholder: 'cam-4' })), h('button', { type: 'submit' }, 'Add camera'))
      return h('section', { class: 'card', dataset: { server: server._id } },
        h('h2', {}, server._id, h('span', { class: `badge ${server.online ? 'up' : 'down'}` }, server.online ? 'online' : 'offline')),
        h('p', {}, `partner ${server.partner} · owner ${server.owner}${server.dc === '' ? '' : ` · dc ${server.dc}`}`),
        table(['Camera', 'Online', 'Streams', ''], rows),
        addCamera,
        canWrite && h('div', { class: 'actions' },
          jsonEditor({ doc: server, notify, onSave: async (change) => patch(server, change, `${server._id} saved`)() }),
          confirmButton('Delete server', `Delete server ${server._id} and its cameras?`, async () => {
            await api('DELETE', `/servers/${encodeURIComponent(server._id)}`)
            notify(`${server._id} deleted`, 'ok')
            await render()
          }, notify, { class: 'danger' })))
    })
    replace(root, h('h1', {}, 'Servers and cameras'), cards.length === 0 ? h('p', {}, 'No servers yet.') : cards,
      canWrite && createForm({
        label: 'New server',
        template: { _id: 'UIN-NEW-1', partner: 'demo', owner: 'acct-demo', dc: 'msk', cameras: { 'cam-1': { online: true, streams: ['main'] } } },
        notify,
        onCreate: async (body) => {
          try {
            await api('POST', '/servers', body)
            notify(`${body._id} created`, 'ok')
            await render()
          } catch (err) {
            notify(err)
          }
        }
      }))
  }
  await render()
}
