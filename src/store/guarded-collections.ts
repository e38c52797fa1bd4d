// Every query of the gateway within MONGODB_QUERY_TIMEOUT_MS, and none at all while the store
// is known to be down: the collections handed to every route (stream, admin, heartbeat,
// verify, hooks) and to the routing snapshot go through here, so no route can wait out the
// driver's server selection (5 s) or a socket that never answers (30 s), and each gets
// GW_DEPENDENCY_DOWN (503 with Retry-After) instead of a 500.
//
// The wrapper is a Proxy over each collection and the cursors it returns, because the routes
// use the driver's own API (find().sort().limit().toArray(), async iteration); operations it
// does not know pass through unchanged.

import { MongoError, MongoServerError, type Collection, type Document } from 'mongodb'
import { gatewayError } from '../errors.js'
import { DeadlineError } from '../upstream/deadline.js'
import type { Collections } from './mongo.js'
import type { StoreHealth } from './store-health.js'

/** Operations that return one promise. */
const PROMISE_OPERATIONS = new Set([
  'findOne', 'countDocuments', 'estimatedDocumentCount', 'distinct', 'insertOne', 'insertMany', 'updateOne',
  'updateMany', 'replaceOne', 'deleteOne', 'deleteMany', 'findOneAndUpdate', 'findOneAndReplace', 'findOneAndDelete',
  'bulkWrite', 'createIndex', 'createIndexes', 'drop'
])
/** Operations that return a cursor. */
const CURSOR_OPERATIONS = new Set(['find', 'aggregate'])
/** Cursor methods that talk to the server. */
const CURSOR_READS = new Set(['toArray', 'next', 'tryNext', 'hasNext', 'forEach'])

/**
 * Server answers that mean the server cannot serve now (a query past maxTimeMS, a primary
 * stepping down, shutting down), as opposed to answers about the request (a duplicate key).
 */
const UNAVAILABLE_CODES = new Set([50, 91, 189, 10107, 11600, 11602, 13435, 13436])

/**
 * Socket failures the driver can let through unwrapped: a write to a connection whose store
 * was just killed surfaces as the socket's own `write ECONNRESET`, not a MongoNetworkError.
 */
const SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ECONNABORTED', 'ENOTCONN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'])

/** Whether err means the store did not answer, rather than answered no. */
export function isStoreUnreachable (err: unknown): boolean {
  if (err instanceof MongoServerError) return typeof err.code === 'number' && UNAVAILABLE_CODES.has(err.code)
  const socket = err as NodeJS.ErrnoException | null
  if (typeof socket?.syscall === 'string' && typeof socket.code === 'string' && SOCKET_CODES.has(socket.code)) return true
  return err instanceof MongoError || err instanceof DeadlineError
}

export interface GuardOptions {
  health: StoreHealth
  /** The longest one operation (or one cursor read) may take, in ms. */
  timeoutMs: number
  /**
   * Try the store even while it is known to be down (background reads that serve as the
   * breaker's probes); default false: fail at once, as a client's request should.
   */
  probe?: boolean
}

export interface QueryGuard {
  /** Runs one store operation under the breaker and the deadline. */
  run: <T>(operation: () => Promise<T>) => Promise<T>
}

export function createQueryGuard ({ health, timeoutMs, probe = false }: GuardOptions): QueryGuard {
  return {
    async run<T> (operation: () => Promise<T>): Promise<T> {
      if (!probe && !health.admit()) throw gatewayError('GW_DEPENDENCY_DOWN', 'MongoDB is unreachable')
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new DeadlineError(timeoutMs)), timeoutMs)
      })
      let pending: Promise<T> | undefined
      try {
        pending = operation()
        const answer = await Promise.race([pending, late])
        health.succeeded()
        return answer
      } catch (err) {
        if (!isStoreUnreachable(err)) {
          health.succeeded()
          throw err
        }
        health.failed()
        throw gatewayError('GW_DEPENDENCY_DOWN', 'MongoDB did not answer in time', { cause: err })
      } finally {
        clearTimeout(timer)
        // Answered after the deadline, or failed: no one is waiting any more.
        pending?.catch(() => {})
      }
    }
  }
}

/** Whether the cursor holds documents already fetched: reading those needs no guard. */
function buffered (cursor: object): boolean {
  const count = (cursor as { bufferedCount?: () => number }).bufferedCount
  return typeof count === 'function' && count.call(cursor) > 0
}

function guardCursor<C extends object> (cursor: C, guard: QueryGuard): C {
  const proxy: C = new Proxy(cursor, {
    get (target, property) {
      const value: unknown = Reflect.get(target, property, target)
      if (typeof value !== 'function') return value
      const method = value as (...args: unknown[]) => unknown
      if (property === Symbol.asyncIterator) {
        return () => {
          const iterator = method.call(target) as AsyncIterator<unknown>
          return {
            next: async () => buffered(target) ? await iterator.next() : await guard.run(async () => await iterator.next()),
            return: async (v?: unknown) => await (iterator.return?.(v) ?? Promise.resolve({ done: true, value: v })),
            [Symbol.asyncIterator] () { return this }
          }
        }
      }
      if (typeof property === 'string' && CURSOR_READS.has(property)) {
        return async (...args: unknown[]) => await guard.run(async () => await (method.apply(target, args) as Promise<unknown>))
      }
      // Builders (sort, limit, project, …) return the cursor itself: keep handing out the proxy.
      return (...args: unknown[]) => {
        const result = method.apply(target, args)
        return result === target ? proxy : result
      }
    }
  })
  return proxy
}

export function guardCollection<T extends Document> (collection: Collection<T>, guard: QueryGuard): Collection<T> {
  return new Proxy(collection, {
    get (target, property) {
      const value: unknown = Reflect.get(target, property, target)
      if (typeof value !== 'function' || typeof property !== 'string') return value
      const method = value as (...args: unknown[]) => unknown
      if (PROMISE_OPERATIONS.has(property)) {
        return async (...args: unknown[]) => await guard.run(async () => await (method.apply(target, args) as Promise<unknown>))
      }
      if (CURSOR_OPERATIONS.has(property)) {
        return (...args: unknown[]) => guardCursor(method.apply(target, args) as object, guard)
      }
      return method.bind(target)
    }
  })
}

/** The collections, each behind guard. */
export function guardCollections (collections: Collections, guard: QueryGuard): Collections {
  return Object.fromEntries(
    Object.entries(collections).map(([name, collection]) => [name, guardCollection(collection as Collection<Document>, guard)])
  ) as unknown as Collections
}
