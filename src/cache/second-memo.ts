// Values remembered for the rest of the current second, then forgotten all at once. Answers
// fixed to the second (a signed URL's iat and exp, the choice made over one node snapshot) are
// worked out once per second per key instead of once per request; a burst over `max` distinct
// keys in one second is worked out afresh for the keys past it, never remembered unbounded.

export interface SecondMemo<V> {
  /**
   * The value remembered for key this second within scope (an object and a version of it: a
   * snapshot and its liveness version, say); a different scope starts the memo afresh.
   */
  get: (key: string, scope?: object, version?: number) => V | undefined
  set: (key: string, value: V, scope?: object, version?: number) => void
}

/** onFresh: told each time the memo starts afresh, for a caller that keeps counts beside it. */
export function createSecondMemo<V> (now: () => number, max: number, onFresh?: () => void): SecondMemo<V> {
  let second = -1
  let owner: object | undefined
  let ownerVersion = 0
  let entries = new Map<string, V>()

  function current (scope: object | undefined, version: number): Map<string, V> {
    const s = Math.floor(now() / 1000)
    if (s !== second || scope !== owner || version !== ownerVersion) {
      second = s
      owner = scope
      ownerVersion = version
      entries = new Map()
      onFresh?.()
    }
    return entries
  }

  return {
    get: (key, scope, version = 0) => current(scope, version).get(key),
    set (key, value, scope, version = 0) {
      const map = current(scope, version)
      if (map.size < max) map.set(key, value)
    }
  }
}
