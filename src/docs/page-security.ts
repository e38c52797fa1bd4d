// The Content-Security-Policy of every page the gateway serves (/admin and /docs): scripts,
// styles, images and requests from the gateway itself only, nothing inline, no frames.

export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'"
].join('; ')

/**
 * /docs: the same, but Swagger UI's bundle inserts one <style> element of its own; that one
 * element, by its hash, is let in, and nothing else inline.
 */
export const DOCS_CSP = PAGE_CSP.replace("style-src 'self'", "style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='")

export const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy': PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY'
}

/** Every answer under /docs: the page, its scripts and styles, and the document it draws. */
export const DOCS_HEADERS: Record<string, string> = { ...PAGE_HEADERS, 'content-security-policy': DOCS_CSP }
