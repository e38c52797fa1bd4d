// Signed POSTs to the URLs partners registered, from a bounded queue in this process's memory.
// Whoever queues never waits: send() puts the call in the queue and returns, without I/O and in
// constant time, so a receiver that is slow, failing or gone costs the paths that answer
// viewers and nodes nothing. What the queue cannot hold is dropped at once, and what a receiver
// keeps refusing is retried with exponential backoff (with jitter, so a receiver coming back is
// not met by every retry at once) and dropped after the last attempt; each drop is told, for
// a metric.
//
// Calls go through the one upstream client, one pool per receiving origin: its deadline, its
// breaker (a receiver that keeps failing is left alone for a while), its failure codes. No more
// calls are in flight to one origin than its pool has connections, so that a receiver that never
// answers holds those few and nothing else; the rest wait in the queue, where their deadline has
// not started. Pools are kept for at most maxOrigins origins, the least recently used closed for
// a new one: targets come from admin-written partner documents, and even those do not get to
// open a pool per URL.
//
// Each attempt is signed anew as service calls are (src/signing/service-request.ts): the
// target's key id and secret, the time, a fresh nonce, the method, the path with its query and
// the body's digest. A delivery is at least once: a receiver that answered too late is sent the
// event again, and tells repeats apart by the event's id.

import { createServiceSigner, type SignRequest } from '../signing/service-request.js'
import { positiveInteger } from '../upstream/number-options.js'
import { createUpstreamClientPool } from '../upstream/client-pool.js'
import { createUpstreamClient, type UpstreamAnswer } from '../upstream/upstream-client.js'
import { isUpstreamError, UpstreamError } from '../upstream/upstream-error.js'

export interface WebhookTarget {
  /** An absolute http(s) URL, without credentials. */
  readonly url: string
  /** What the signature names as the caller (id=…): which of the receiver's secrets to check. */
  readonly keyId: string
  readonly secret: string
}

/**
 * Why a delivery was given up: the queue was full, every attempt failed, its partner could not
 * be learned (src/webhooks/session-webhooks.ts), or the process was closing.
 */
export type WebhookDropReason = 'queue_full' | 'retries_exhausted' | 'unresolved' | 'shutdown'
export const WEBHOOK_DROP_REASONS: readonly WebhookDropReason[] = ['queue_full', 'retries_exhausted', 'unresolved', 'shutdown']

export interface WebhookDeliveryOptions {
  /** Most deliveries held at once: waiting their turn, waiting to retry, or in flight. */
  maxQueued: number
  /** The longest one attempt may take (ms). */
  timeoutMs: number
  /** Attempts before a delivery is dropped; 1: no retry. */
  maxAttempts: number
  /** The wait before the first retry (ms); each next one doubles, up to retryMaxMs. */
  retryMs: number
  retryMaxMs: number
  /** Most calls in flight to one origin: the connections of its pool. */
  connectionsPerOrigin: number
  /** Most origins with a pool at once; default 64. */
  maxOrigins?: number
  /** Each origin's breaker; default 5 failures in a row open it for 5 s. */
  breaker?: { failureThreshold: number, cooldownMs: number }
  /** The breakers' clock. Signatures take the wall clock: a receiver checks them against its own. */
  now?: () => number
  /** Jitter's source, [0, 1); default Math.random. */
  random?: () => number
  onDelivered?: (partner: string) => void
  /** An attempt failed (whether or not it is retried). */
  onFailed?: (partner: string, error: UpstreamError) => void
  onDropped?: (partner: string, reason: WebhookDropReason) => void
  /** A retry was scheduled after attempt number `attempt` failed, delayMs from now. */
  onRetry?: (partner: string, attempt: number, delayMs: number) => void
}

export interface WebhookDelivery {
  /** Queues a signed POST of body (JSON) to target; false, and told as dropped, when the queue is full or closed. */
  send: (partner: string, target: WebhookTarget, body: string) => boolean
  /** Deliveries held: waiting, waiting to retry, or in flight. */
  readonly size: number
  /** Drops what waits and what is in flight, and closes the pools. */
  close: () => Promise<void>
}

interface Delivery {
  readonly partner: string
  readonly target: WebhookTarget
  readonly origin: string
  readonly path: string
  readonly body: string
  attempts: number
  timer?: NodeJS.Timeout
}

/** A first-in first-out queue with O(1) push and shift. */
class Fifo<T> {
  #items: Array<T | undefined> = []
  #head = 0

  get length (): number { return this.#items.length - this.#head }

  push (item: T): void { this.#items.push(item) }

  shift (): T | undefined {
    if (this.#head >= this.#items.length) return undefined
    const item = this.#items[this.#head]
    this.#items[this.#head++] = undefined
    // Compacted once the consumed half dominates: amortised O(1).
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return item
  }
}

const DEFAULT_BREAKER = { failureThreshold: 5, cooldownMs: 5000 }

/**
 * Whether url can be a webhook target: an absolute http(s) URL with neither credentials nor a
 * fragment, which a call could not send. The admin API accepts only such URLs.
 */
export function usableWebhookUrl (url: unknown): url is string {
  if (typeof url !== 'string' || !/^https?:\/\//i.test(url) || !URL.canParse(url)) return false
  const parsed = new URL(url)
  return parsed.username === '' && parsed.password === '' && parsed.hash === ''
}

/** Where a target's calls go: the origin its pool is for, and the path with query each call names. */
function targetAddress (url: string): { origin: string, path: string } {
  if (!usableWebhookUrl(url)) throw new TypeError('a webhook URL must be an http or https URL without credentials or fragment')
  const parsed = new URL(url)
  return { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` }
}

export function createWebhookDelivery (options: WebhookDeliveryOptions): WebhookDelivery {
  const maxQueued = positiveInteger('maxQueued', options.maxQueued)
  const maxAttempts = positiveInteger('maxAttempts', options.maxAttempts)
  const perOrigin = positiveInteger('connectionsPerOrigin', options.connectionsPerOrigin)
  const maxOrigins = positiveInteger('maxOrigins', options.maxOrigins ?? 64)
  const retryMs = positiveInteger('retryMs', options.retryMs)
  const retryMaxMs = positiveInteger('retryMaxMs', options.retryMaxMs)
  const random = options.random ?? Math.random
  const ready = new Map<string, Fifo<Delivery>>()
  const inFlight = new Map<string, number>()
  const retrying = new Set<Delivery>()
  const signers = new WeakMap<WebhookTarget, SignRequest>()
  const addresses = new WeakMap<WebhookTarget, { origin: string, path: string }>()
  // One pool per receiving origin; one with nothing in flight makes room for a new origin.
  const clients = createUpstreamClientPool({
    max: maxOrigins,
    busy: (origin) => (inFlight.get(origin) ?? 0) > 0,
    make: (origin) => createUpstreamClient({
      name: `webhook ${origin}`,
      url: origin,
      timeoutMs: options.timeoutMs,
      connections: perOrigin,
      breaker: options.breaker ?? DEFAULT_BREAKER,
      ...(options.now !== undefined && { now: options.now })
    })
  })
  let held = 0
  let pumpQueued = false
  let closed = false

  function drop (delivery: Delivery, reason: WebhookDropReason): void {
    held--
    options.onDropped?.(delivery.partner, reason)
  }

  function signerFor (target: WebhookTarget): SignRequest {
    let signer = signers.get(target)
    if (signer === undefined) {
      signer = createServiceSigner({ id: target.keyId, secret: target.secret })
      signers.set(target, signer)
    }
    return signer
  }

  function queueReady (delivery: Delivery): void {
    let queue = ready.get(delivery.origin)
    if (queue === undefined) {
      queue = new Fifo()
      ready.set(delivery.origin, queue)
    }
    queue.push(delivery)
    if (!pumpQueued) {
      pumpQueued = true
      // Off the caller's turn: a send() costs it a push, never a call.
      setImmediate(pump)
    }
  }

  function pump (): void {
    pumpQueued = false
    for (const [origin, queue] of ready) {
      while (queue.length > 0 && (inFlight.get(origin) ?? 0) < perOrigin) {
        attempt(queue.shift() as Delivery)
      }
      if (queue.length === 0) ready.delete(origin)
    }
  }

  function attempt (delivery: Delivery): void {
    const { origin } = delivery
    inFlight.set(origin, (inFlight.get(origin) ?? 0) + 1)
    delivery.attempts++
    clients.get(origin).call({ method: 'POST', path: delivery.path, json: delivery.body, sign: signerFor(delivery.target) }, acceptAnswer).then(() => {
      held--
      options.onDelivered?.(delivery.partner)
    }, (err: unknown) => {
      failed(delivery, isUpstreamError(err) ? err : new UpstreamError('UPSTREAM_UNAVAILABLE', `webhook ${origin}`, `webhook ${origin} failed`, { cause: err }))
    }).finally(() => {
      const left = (inFlight.get(origin) ?? 1) - 1
      if (left === 0) inFlight.delete(origin)
      else inFlight.set(origin, left)
      if (ready.has(origin) && !pumpQueued && !closed) {
        pumpQueued = true
        setImmediate(pump)
      }
    })
  }

  function failed (delivery: Delivery, error: UpstreamError): void {
    options.onFailed?.(delivery.partner, error)
    if (closed) return drop(delivery, 'shutdown')
    if (delivery.attempts >= maxAttempts) return drop(delivery, 'retries_exhausted')
    const full = Math.min(retryMaxMs, retryMs * 2 ** (delivery.attempts - 1))
    // Between half and all of the full wait.
    const delayMs = Math.round(full * (0.5 + random() / 2))
    retrying.add(delivery)
    delivery.timer = setTimeout(() => {
      retrying.delete(delivery)
      delivery.timer = undefined
      queueReady(delivery)
    }, delayMs)
    // A retry waiting keeps no process alive; close() drops it.
    delivery.timer.unref()
    options.onRetry?.(delivery.partner, delivery.attempts, delayMs)
  }

  return {
    send (partner, target, body) {
      if (closed || held >= maxQueued) {
        options.onDropped?.(partner, closed ? 'shutdown' : 'queue_full')
        return false
      }
      let address = addresses.get(target)
      if (address === undefined) {
        address = targetAddress(target.url)
        addresses.set(target, address)
      }
      held++
      queueReady({ partner, target, origin: address.origin, path: address.path, body, attempts: 0 })
      return true
    },
    get size () { return held },
    async close () {
      if (closed) return
      closed = true
      for (const delivery of retrying) {
        clearTimeout(delivery.timer)
        drop(delivery, 'shutdown')
      }
      retrying.clear()
      for (const queue of ready.values()) {
        for (let delivery = queue.shift(); delivery !== undefined; delivery = queue.shift()) drop(delivery, 'shutdown')
      }
      ready.clear()
      // What is in flight is abandoned (and told as dropped): a receiver that never answers must
      // not hold up the process's exit for a deadline.
      await clients.close('destroy')
    }
  }
}

/** A 2xx is delivered, whatever its body; anything else is a failed attempt. */
async function acceptAnswer (answer: UpstreamAnswer): Promise<void> {
  if (answer.statusCode >= 200 && answer.statusCode < 300) {
    await answer.dump()
    return
  }
  throw await answer.unexpectedStatus()
}
