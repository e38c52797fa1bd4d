// The console's one way to the gateway: /api/v1 with the signed-in token as a bearer. The
// token lives in this tab's sessionStorage only: never in a URL, a cookie or local storage.

const KEY = 'geogate.token'

export class ApiError extends Error {
  constructor (status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

export const session = {
  token: () => sessionStorage.getItem(KEY),
  signIn: (token) => sessionStorage.setItem(KEY, token),
  signOut: () => sessionStorage.removeItem(KEY)
}

/** Calls the API; resolves with the parsed answer, or rejects with the API's own error message. */
export async function api (method, path, body) {
  const headers = { accept: 'application/json' }
  const token = session.token()
  if (token !== null) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json'
  const res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' })
  const text = await res.text()
  const answer = text === '' ? null : JSON.parse(text)
  if (!res.ok) {
    const error = answer?.error ?? { code: `HTTP_${res.status}`, message: res.statusText }
    throw new ApiError(res.status, error.code, error.message)
  }
  return answer
}

/** The merge patch (RFC 7396) that turns `from` into `to`. */
export function mergePatchBetween (from, to) {
  const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v)
  if (!isObject(from) || !isObject(to)) return to
  const patch = {}
  for (const key of Object.keys(from)) if (!(key in to)) patch[key] = null
  for (const [key, value] of Object.entries(to)) {
    if (JSON.stringify(from[key]) === JSON.stringify(value)) continue
    patch[key] = isObject(from[key]) && isObject(value) ? mergePatchBetween(from[key], value) : value
  }
  return patch
}
