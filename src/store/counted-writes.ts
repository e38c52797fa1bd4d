// Counts the write commands sent through a collection, for a metric of what a feature costs the
// store (HLS sessions: the writes of an admission, which takes seats, slots and a document in
// several steps). A Proxy, like the guard of every query (guarded-collections.ts): the callers
// use the driver's own API, and everything that is not a write passes through unchanged.

/** The driver's operations that write. */
const WRITES = new Set([
  'insertOne', 'insertMany', 'updateOne', 'updateMany', 'replaceOne', 'deleteOne', 'deleteMany',
  'findOneAndUpdate', 'findOneAndReplace', 'findOneAndDelete', 'bulkWrite'
])

/** The collection, telling count of each write command sent through it. */
export function countWrites<C extends object> (collection: C, count: () => void): C {
  return new Proxy(collection, {
    get (target, property) {
      const value: unknown = Reflect.get(target, property, target)
      if (typeof value !== 'function') return value
      const method = value as (...args: unknown[]) => unknown
      if (typeof property === 'string' && WRITES.has(property)) {
        return (...args: unknown[]) => {
          count()
          return method.apply(target, args)
        }
      }
      return method.bind(target)
    }
  })
}
