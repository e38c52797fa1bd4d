// One batch at a time: items that come while a batch is written wait for it, and go together in
// the next. A store that pays for each write command whatever the number of documents it
// carries (the embedded store: a write into a collection of 5,000 documents costs it about half
// a second of CPU, one document or five hundred) then pays per batch, not per item, and the
// slower the store, the larger the batches: its cost per item falls as the load rises, where
// one command per item would queue without end. An item alone waits for the rest of the event
// loop's turn, nothing more.
//
// group-commit.ts is the same pattern for writers that share one save; here each item has an
// answer of its own.

export interface BatchQueueOptions<I, O> {
  /** Most items in one batch; the rest wait for the next. */
  maxBatch: number
  /** Runs one batch: one answer per item, in their order. Its rejection is each item's. */
  run: (items: I[]) => Promise<O[]>
}

/** Adds an item to the next batch; resolves with its answer. */
export type BatchQueue<I, O> = (item: I) => Promise<O>

interface Waiting<I, O> {
  item: I
  resolve: (answer: O) => void
  reject: (error: unknown) => void
}

export function createBatchQueue<I, O> (options: BatchQueueOptions<I, O>): BatchQueue<I, O> {
  const { maxBatch, run } = options
  if (!(Number.isInteger(maxBatch) && maxBatch > 0)) throw new TypeError('maxBatch must be a positive integer')
  let queue: Array<Waiting<I, O>> = []
  let running = false
  let soon = false

  function next (): void {
    soon = false
    if (running || queue.length === 0) return
    const batch = queue.slice(0, maxBatch)
    queue = queue.slice(batch.length)
    running = true
    const settled = (async () => await run(batch.map((waiting) => waiting.item)))()
    settled.then((answers) => {
      if (answers.length !== batch.length) throw new Error(`a batch of ${batch.length} got ${answers.length} answers`)
      batch.forEach((waiting, i) => waiting.resolve(answers[i] as O))
    }).catch((error: unknown) => {
      for (const waiting of batch) waiting.reject(error)
    }).finally(() => {
      running = false
      next()
    })
  }

  return (item) => new Promise<O>((resolve, reject) => {
    queue.push({ item, resolve, reject })
    if (!running && !soon) {
      // The rest of this turn's items go with it.
      soon = true
      setImmediate(next)
    }
  })
}
