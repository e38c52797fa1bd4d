// A page for a plain admin collection (partners, tariffs, accounts): a table, edits as JSON,
// creates from a template, deletes.

import { api } from '../api.js'
import { h, replace, table } from '../dom.js'
import { confirmButton, createForm, jsonEditor } from './editor.js'

export async function collectionPage (ctx, { title, path, columns, template }) {
  const { root, canWrite, notify } = ctx
  const render = async () => {
    const { items } = await api('GET', `/${path}`)
    const rows = items.map((doc) => h('tr', { dataset: { id: doc._id } },
      columns.map(([, value], i) => i === 0 ? h('th', { scope: 'row' }, value(doc)) : h('td', {}, String(value(doc)))),
      h('td', { class: 'actions' }, canWrite && [
        jsonEditor({
          doc,
          notify,
          onSave: async (patch) => {
            try {
              await api('PATCH', `/${path}/${encodeURIComponent(doc._id)}`, patch)
              notify(`${doc._id} saved`, 'ok')
              await render()
            } catch (err) {
              notify(err)
            }
          }
        }),
        confirmButton('Delete', `Delete ${doc._id}?`, async () => {
          await api('DELETE', `/${path}/${encodeURIComponent(doc._id)}`)
          notify(`${doc._id} deleted`, 'ok')
          await render()
        }, notify, { class: 'danger' })
      ])))
    replace(root,
      h('h1', {}, title),
      table([...columns.map(([name]) => name), ''], rows, { id: path }),
      canWrite && createForm({
        label: `New ${title.toLowerCase().replace(/s$/, '')}`,
        template,
        notify,
        onCreate: async (body) => {
          try {
            await api('POST', `/${path}`, body)
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
