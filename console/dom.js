// Building the page from data without ever parsing data as HTML: every value becomes a text
// node or an attribute, so nothing a document holds can run as script.

const SVG = 'http://www.w3.org/2000/svg'

function build (element, attributes, children) {
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value)
    else if (name === 'dataset') Object.assign(element.dataset, value)
    else if (name === 'value' && 'value' in element) element.value = value
    else if (name === 'checked') element.checked = Boolean(value)
    else element.setAttribute(name, value === true ? '' : String(value))
  }
  for (const child of [children].flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue
    element.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return element
}

/** An HTML element: h('td', { class: 'age' }, '3 s'). */
export function h (tag, attributes, ...children) {
  return build(document.createElement(tag), attributes, children)
}

/** An SVG element, the same way. */
export function s (tag, attributes, ...children) {
  return build(document.createElementNS(SVG, tag), attributes, children)
}

export function replace (parent, ...children) {
  parent.replaceChildren(...children.flat(Infinity).filter((c) => c !== undefined && c !== null && c !== false))
}

/** A table in a box that scrolls sideways on a narrow screen. */
export function table (head, rows, attributes = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', attributes,
      h('thead', {}, h('tr', {}, head.map((title) => h('th', { scope: 'col' }, title)))),
      h('tbody', {}, rows)))
}

/** How long ago `then` was, in words short enough for a table cell. */
export function age (then, now) {
  if (then === null || then === undefined) return 'never'
  const seconds = Math.max(0, Math.round((now - Date.parse(then)) / 1000))
  if (seconds < 120) return `${seconds} s ago`
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h ago`
  return `${Math.round(seconds / 86400)} d ago`
}
