// What the node-hook tests share: POSTs the way SRS and nginx-rtmp send them, signatures made
// with the test key on the test's clock, and accounts of a chosen tariff.

import http from 'node:http'
import { parseSigningKeys } from '../../../src/signing/keys.js'
import { createStreamSigner, type StreamGrant } from '../../../src/signing/stream-signature.js'
import { demoNodeKey } from '../../../src/demo/demo-data.js'
import type { TestSystem } from '../../helpers/system.js'
import { TEST_SIGNING_KEYS } from '../../helpers/system.js'

export const NODE = 'node-moscow-1'
export const NODE_KEY = demoNodeKey(NODE)

export interface Posted {
  status: number
  body: string
  json: () => any
}

export function post (url: string, body: string, headers: Record<string, string>): Promise<Posted> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-length': String(Buffer.byteLength(body)), ...headers }, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { text += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, json: () => JSON.parse(text) }))
      res.on('error', reject)
    })
    req.setTimeout(30_000, () => req.destroy(new Error(`POST ${url} timed out`)))
    req.on('error', reject)
    req.end(body)
  })
}

export function postJson (url: string, body: unknown, headers: Record<string, string> = {}): Promise<Posted> {
  return post(url, JSON.stringify(body), { 'content-type': 'application/json', ...headers })
}

export function postForm (url: string, fields: Record<string, string> | string, headers: Record<string, string> = {}): Promise<Posted> {
  const body = typeof fields === 'string' ? fields : new URLSearchParams(fields).toString()
  return post(url, body, { 'content-type': 'application/x-www-form-urlencoded', ...headers })
}

/** key null: a hook URL without a key. */
export function hookUrl (system: TestSystem, path: string, node = NODE, key: string | null = NODE_KEY): string {
  const query = new URLSearchParams({ node, ...(key !== null && { key }) })
  return `${system.gatewayUrl}${path}?${query.toString()}`
}

export interface Signer {
  sign: (grant: Partial<StreamGrant> & { own: string }) => string
}

/** Signs like the gateway: the test key, the gateway id, the test's clock. */
export function testSigner (now: () => number, keys = TEST_SIGNING_KEYS): Signer {
  const signer = createStreamSigner({ keys: parseSigningKeys(keys), issuer: 'gw-test', now })
  return {
    sign: (grant) => signer.sign({ aud: NODE, sub: 'UIN-DEMO-1/cam-1', fmt: 'flv', jti: 'jti', ...grant }).token
  }
}

let accounts = 0
/** A fresh active account on a tariff with this limit (null: none). */
export async function accountWithLimit (system: TestSystem, limit: number | null, status: 'active' | 'suspended' = 'active'): Promise<string> {
  const id = `acct-hooks-${++accounts}`
  const tariff = `tariff-${id}`
  await system.store.collections.tariffs.insertOne({ _id: tariff, formats: ['flv', 'hls', 'ws-fmp4'], patterns: ['streaming'], max_concurrent_streams: limit })
  await system.store.collections.accounts.insertOne({ _id: id, tariff, status })
  return id
}
