// The console's shell: sign-in, the page for the location's #hash, and messages. Pages get a
// context and return a function that stops what they started (timers), run on the next page.

import { api, session } from './api.js'
import { h, replace } from './dom.js'
import { nodesPage } from './pages/nodes.js'
import { viewersPage } from './pages/viewers.js'
import { groupsPage } from './pages/groups.js'
import { explainPage } from './pages/explain.js'
import { serversPage } from './pages/servers.js'
import { collectionPage } from './pages/collection.js'
import { tokensPage } from './pages/tokens.js'
import { auditPage } from './pages/audit.js'

const pages = {
  nodes: nodesPage,
  viewers: viewersPage,
  groups: groupsPage,
  explain: explainPage,
  servers: serversPage,
  partners: (ctx) => collectionPage(ctx, {
    title: 'Partners',
    path: 'partners',
    columns: [['Id', (d) => d._id], ['Name', (d) => d.name], ['Pattern fallbacks', (d) => Object.entries(d.pattern_fallbacks).map(([p, to]) => `${p} → ${to.join(', ')}`).join('; ') || '—']],
    template: { _id: 'new-partner', name: 'New partner' }
  }),
  tariffs: (ctx) => collectionPage(ctx, {
    title: 'Tariffs',
    path: 'tariffs',
    columns: [['Id', (d) => d._id], ['Formats', (d) => d.formats.join(', ')], ['Patterns', (d) => d.patterns.join(', ')], ['Concurrent streams', (d) => d.max_concurrent_streams ?? 'no limit']],
    template: { _id: 'new-tariff', max_concurrent_streams: 10 }
  }),
  accounts: (ctx) => collectionPage(ctx, {
    title: 'Accounts',
    path: 'accounts',
    columns: [['Id', (d) => d._id], ['Tariff', (d) => d.tariff], ['Status', (d) => d.status]],
    template: { _id: 'new-account', tariff: 'unlimited' }
  }),
  tokens: tokensPage,
  audit: auditPage
}

const $ = (id) => document.getElementById(id)
let stopPage = () => {}
let who = null

/** Shows a message; an Error shows as one, with the API's own wording. */
function notify (message, kind = 'info') {
  const box = $('message')
  const text = message instanceof Error ? message.message : String(message)
  box.className = message instanceof Error ? 'error' : kind
  replace(box, h('span', {}, text), h('button', { type: 'button', class: 'close', 'aria-label': 'dismiss', onclick: () => { box.hidden = true } }, '×'))
  box.hidden = false
}

function clearMessage () {
  $('message').hidden = true
}

function showSignIn () {
  stopPage()
  stopPage = () => {}
  who = null
  $('nav').hidden = true
  $('who').hidden = true
  replace($('page'))
  $('signin').hidden = false
  $('signin-token').value = ''
  $('signin-token').focus()
}

async function route () {
  if (session.token() === null) return showSignIn()
  if (who === null) {
    try {
      who = await api('GET', '/session')
    } catch (err) {
      session.signOut()
      showSignIn()
      return notify(err)
    }
  }
  $('signin').hidden = true
  $('nav').hidden = false
  $('who').hidden = false
  $('actor').textContent = `${who.actor}${who.can_write ? '' : ' (read only)'}`
  document.body.classList.toggle('read-only', !who.can_write)

  const name = (location.hash.replace(/^#\//, '').split('?')[0]) || 'nodes'
  const page = pages[name] ?? pages.nodes
  for (const link of document.querySelectorAll('#nav a')) link.classList.toggle('current', link.getAttribute('href') === `#/${name}`)
  stopPage()
  const root = h('div', { class: `page page-${name}` })
  replace($('page'), root)
  const ctx = { root, canWrite: who.can_write, nodeTtlS: who.node_ttl_s, notify, clearMessage, params: new URLSearchParams(location.hash.split('?')[1] ?? '') }
  try {
    stopPage = (await page(ctx)) ?? (() => {})
  } catch (err) {
    notify(err)
  }
}

$('signin').addEventListener('submit', (event) => {
  event.preventDefault()
  session.signIn($('signin-token').value.trim())
  $('signin-token').value = ''
  clearMessage()
  route()
})

$('signout').addEventListener('click', () => {
  session.signOut()
  clearMessage()
  showSignIn()
})

window.addEventListener('hashchange', () => { clearMessage(); route() })
route()
