// The billing decision, as a pure function of what MongoDB holds for the account.

import type { ErrorCode } from '../errors.js'
import type { AccountDoc, StreamFormat, TariffDoc } from '../store/documents.js'

export interface AccountLimits {
  account: AccountDoc | null
  tariff: TariffDoc | null
  activeSessions: number
}

export interface LimitRequest {
  format: StreamFormat
  pattern: string
}

export interface LimitVerdict {
  code: ErrorCode
  message: string
}

/** null when the account may open one more stream of this format and pattern. */
export function decideLimits (limits: AccountLimits, request: LimitRequest): LimitVerdict | null {
  const { account, tariff } = limits
  if (account === null) return { code: 'GW_BILLING_BLOCKED', message: 'the token\'s owner has no billing account' }
  if (account.status !== 'active') return { code: 'GW_BILLING_BLOCKED', message: 'the account is suspended' }
  if (tariff === null) return { code: 'GW_BILLING_BLOCKED', message: 'the account\'s tariff does not exist' }
  if (!tariff.formats.includes(request.format)) {
    return { code: 'GW_BILLING_BLOCKED', message: `the tariff does not include the ${request.format} format` }
  }
  if (!tariff.patterns.includes(request.pattern)) {
    return { code: 'GW_BILLING_BLOCKED', message: `the tariff does not include the ${request.pattern} pattern` }
  }
  const max = tariff.max_concurrent_streams
  if (max !== null && limits.activeSessions >= max) {
    return { code: 'GW_LIMIT_EXCEEDED', message: `the account is at its limit of ${max} concurrent stream${max === 1 ? '' : 's'}` }
  }
  return null
}
