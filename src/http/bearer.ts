// `Authorization: Bearer <token>`, read the same way by every route that takes one.

const BEARER = /^Bearer\s+(\S+)\s*$/i

/** The token of a bearer header, or undefined when there is none or it is longer than maxLength. */
export function bearerToken (header: string | undefined, maxLength = 4096): string | undefined {
  if (header === undefined || header.length > maxLength + 64) return undefined
  const token = BEARER.exec(header)?.[1]
  return token !== undefined && token.length <= maxLength ? token : undefined
}
