// One batch at a time: items that come while a batch is written wait for it, and go together in
// the next. A store that pays for each write command whatever the number of documents it
// carries (the embedded store: a write into a collection of 5,000 documents costs it about half
// a second of CPU, one document or five hundred) then pays per batch, not per item, and the
// slower the store, the larger the batches: its cost per item falls as the load rises, where
// one command per item would queue without end. An item alone waits for the rest of the event
// loop's turn, nothing more.
//
// A batch whose last step no longer touches what the next one reads may let the next begin
// (release): its write of one collection then runs beside the next batch's write of another,
// which the embedded store does at once (two inserts into two collections of 5,000 documents
// took it 0.42 s together, as long as one). No more than two batches are under way.
//
// group-commit.ts is the same pattern for writers that share one save; here each item has an
// answer of its own.

export interface BatchQueueOptions<I, O> {
  /** Most items in one batch; the rest wait for the next. */
  maxBatch: number
  /**
   * Runs one batch: one answer per item, in their order. Its rejection is each item's. It may
   * call release() once the rest of its work can run beside the next batch.
   */
  run: (items: I[], release: () => void) => Promise<O[]>
}

/** Adds an item to the next batch; resolves with its answer. */
export type BatchQueue<I, O> = (item: I) => Promise<O>

interface Waiting<I, O> {
  item: I
  resolve: (answer: O) => void
  reject: (error: unknown) => void
}

/** Batches under way at once: one at its start, one finishing after it released. */
const UNDER_WAY_MAX = 2

export function createBatchQueue<I, O> (options: BatchQueueOptions<I, O>): BatchQueue<I, O> {
  const { maxBatch, run } = options
  if (!(Number.isInteger(maxBatch) && maxBatch > 0)) throw new TypeError('maxBatch must be a positive integer')
  let queue: Array<Waiting<I, O>> = []
  /** A batch is under way that has not released. */
  let holding = false
  let underWay = 0
  let soon = false

  /** The next batch, at the next turn: the rest of this turn's items go with it. */
  function later (): void {
    if (soon) return
    soon = true
    setImmediate(next)
  }

  function next (): void {
    soon = false
    if (holding || underWay >= UNDER_WAY_MAX || queue.length === 0) return
    const batch = queue.slice(0, maxBatch)
    queue = queue.slice(batch.length)
    holding = true
    underWay++
    let released = false
    const release = (): void => {
      if (released) return
      released = true
      holding = false
      if (queue.length > 0) later()
    }
    const settled = (async () => await run(batch.map((waiting) => waiting.item), release))()
    settled.then((answers) => {
      if (answers.length !== batch.length) throw new Error(`a batch of ${batch.length} got ${answers.length} answers`)
      batch.forEach((waiting, i) => waiting.resolve(answers[i] as O))
    }).catch((error: unknown) => {
      for (const waiting of batch) waiting.reject(error)
    }).finally(() => {
      underWay--
      release()
      next()
    })
  }

  return (item) => new Promise<O>((resolve, reject) => {
    queue.push({ item, resolve, reject })
    if (!holding && underWay < UNDER_WAY_MAX) later()
  })
}
