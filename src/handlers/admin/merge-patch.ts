// JSON merge patch (RFC 7396): an object in the patch merges into the target key by key, null
// removes a key, anything else replaces the value whole (arrays included).

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function applyMergePatch (target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {}
  for (const [key, value] of Object.entries(patch)) {
    // A parsed body cannot carry these (the JSON parser rejects them), but a patch must never
    // reach an object's prototype whatever built it.
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue
    if (value === null) delete result[key]
    else result[key] = applyMergePatch(result[key], value)
  }
  return result
}

export type { Json }
