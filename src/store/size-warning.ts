// The embedded store scans a collection for every lookup (docs/design.md section 8): past a size, every
// request-path lookup costs milliseconds and they queue behind each other. `geogate dev` checks
// the collections it reads on a client's request path now and then, and warns once for each
// that grows past EMBEDDED_STORE_DOCUMENT_LIMIT: from there, run MongoDB (MONGODB_URL).

import type { Collections } from './mongo.js'

/**
 * From this many documents in a request-path collection, the embedded store is the wrong store:
 * a lookup costs about 3 ms there (bench/store-lookup.bench.ts, docs/performance.md), against about 1 ms at
 * 1,000, and grows with every document.
 */
export const EMBEDDED_STORE_DOCUMENT_LIMIT = 10_000

/** The collections a client's request reads one document of, by key: tokens, servers, accounts, tariffs, sessions. */
export const REQUEST_PATH_COLLECTIONS = ['tokens', 'servers', 'accounts', 'tariffs', 'sessions'] as const

type RequestPathCollection = typeof REQUEST_PATH_COLLECTIONS[number]

export interface SizeWarningOptions {
  limit?: number
  /** How often the sizes are checked (ms). Default 60000. */
  intervalMs?: number
}

/** The request-path collections past limit, with their sizes. */
export async function oversizedCollections (
  collections: Pick<Collections, RequestPathCollection>,
  limit = EMBEDDED_STORE_DOCUMENT_LIMIT
): Promise<Array<{ name: RequestPathCollection, documents: number }>> {
  const found: Array<{ name: RequestPathCollection, documents: number }> = []
  for (const name of REQUEST_PATH_COLLECTIONS) {
    const documents = await collections[name].estimatedDocumentCount()
    if (documents > limit) found.push({ name, documents })
  }
  return found
}

/**
 * Checks at once and then every intervalMs, and logs one warning per collection the first time
 * it is past the limit. Returns the stop function.
 */
export function warnWhenEmbeddedStoreOutgrown (
  collections: Pick<Collections, RequestPathCollection>,
  log: (line: string) => void,
  options: SizeWarningOptions = {}
): () => Promise<void> {
  const limit = options.limit ?? EMBEDDED_STORE_DOCUMENT_LIMIT
  const warned = new Set<RequestPathCollection>()
  let running: Promise<void> | undefined
  const check = (): void => {
    running ??= oversizedCollections(collections, limit).then((found) => {
      for (const { name, documents } of found) {
        if (warned.has(name)) continue
        warned.add(name)
        log(`warning: the embedded store's ${name} collection holds ${documents.toLocaleString('en-US')} documents, past ${limit.toLocaleString('en-US')}; ` +
          'every lookup in it scans the collection (milliseconds each, growing): run MongoDB and set MONGODB_URL (docs/performance.md, "The embedded store\'s limits")')
      }
    }, () => { /* the store is away: the next check tries again */ }).finally(() => { running = undefined })
  }
  check()
  const timer = setInterval(check, options.intervalMs ?? 60_000)
  timer.unref()
  return async () => {
    clearInterval(timer)
    await running
  }
}
