// Access tokens: who holds what rights, issued (shown once) and revoked.

import { api } from '../api.js'
import { h, replace, table } from '../dom.js'
import { confirmButton } from './editor.js'

const grantText = (g) => `${g.rights.join('+')} on ${g.object_type} ${g.object_id}`

export async function tokensPage (ctx) {
  const { root, canWrite, notify } = ctx
  const render = async () => {
    const { items } = await api('GET', '/tokens')
    const rows = items.map((token) => h('tr', { dataset: { token: token.id } },
      h('th', { scope: 'row' }, `${token.owner_type}:${token.owner_id}`),
      h('td', {}, token.grants.map(grantText).join('; ')),
      h('td', {}, token.expires_at ?? 'never'),
      h('td', { class: 'hash' }, h('code', { title: token.id }, `${token.id.slice(0, 12)}…`)),
      h('td', { class: 'actions' }, canWrite && confirmButton('Revoke', `Revoke this token of ${token.owner_type}:${token.owner_id}?`, async () => {
        await api('DELETE', `/tokens/${token.id}`)
        notify(`token of ${token.owner_type}:${token.owner_id} revoked`, 'ok')
        await render()
      }, notify, { class: 'danger' }))))

    const issue = canWrite && h('form', {
      class: 'issue',
      onsubmit: async (event) => {
        event.preventDefault()
        const f = event.currentTarget.elements
        try {
          const grants = JSON.parse(f.grants.value)
          const body = { owner_type: f.owner_type.value, owner_id: f.owner_id.value.trim(), grants, ...(f.expires.value !== '' && { expires_in_s: Number(f.expires.value) }) }
          const created = await api('POST', '/tokens', body)
          notify(`token for ${created.owner_type}:${created.owner_id} (shown once, copy it now): ${created.token}`, 'ok')
          await render()
        } catch (err) {
          notify(err)
        }
      }
    },
    h('h2', {}, 'Issue a token'),
    h('label', {}, 'Owner type ', h('select', { name: 'owner_type' }, ['admin', 'account'].map((t) => h('option', { value: t }, t)))),
    h('label', {}, 'Owner id ', h('input', { name: 'owner_id', required: true, placeholder: 'ops-alice' })),
    h('label', { class: 'wide' }, 'Grants (JSON) ', h('textarea', { name: 'grants', class: 'json', rows: 3, spellcheck: 'false', value: '[{"object_type": "gateway", "object_id": "*", "rights": ["read"]}]' })),
    h('label', {}, 'Expires in (s) ', h('input', { name: 'expires', type: 'number', min: 1, placeholder: 'never' })),
    h('button', { type: 'submit' }, 'Issue'))
    replace(root, h('h1', {}, 'Tokens'),
      h('p', { class: 'summary' }, 'Only a token\'s sha256 is stored; a token is shown once, when it is issued. Gateways may answer from a cached grant for a short while after a revocation.'),
      table(['Owner', 'Grants', 'Expires', 'Id', ''], rows, { id: 'tokens' }), issue)
  }
  await render()
}
