// A real browser for a test: Debian's chromium driven by puppeteer-core (which downloads no
// browser of its own), headless, one page that records every console error, page error and
// failed request, so a test can insist there were none. Closed in teardown.

import { existsSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import type { Test } from 'tap'

/** The chromium binary (CHROMIUM_PATH, else on PATH), or undefined when it is not installed. */
export function findChromium (): string | undefined {
  const given = process.env.CHROMIUM_PATH
  if (given !== undefined && given !== '') return given
  for (const name of ['chromium', 'chromium-browser']) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' })
    if (found.status === 0 && found.stdout.trim() !== '') return found.stdout.trim()
  }
  return ['/usr/bin/chromium', '/usr/lib/chromium/chromium'].find((candidate) => existsSync(candidate))
}

export interface WatchedPage {
  page: Page
  /** Console errors, page errors and failed requests so far, each as one line. */
  problems: string[]
  /** Lets requests to URLs that match through once each, as a test expects them to fail. */
  expectFailure: (url: RegExp) => void
}

export async function launchBrowser (t: Test, executablePath: string): Promise<Browser> {
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    // Root in a container has no user namespace for the sandbox; the pages are our own.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check'],
    protocolTimeout: 60_000
  })
  t.teardown(() => browser.close())
  return browser
}

export async function watchedPage (browser: Browser, viewport = { width: 1280, height: 800 }): Promise<WatchedPage> {
  const page = await browser.newPage()
  await page.setViewport(viewport)
  page.setDefaultTimeout(15_000)
  const problems: string[] = []
  const expected: RegExp[] = []
  const allowed = (url: string): boolean => {
    const i = expected.findIndex((re) => re.test(url))
    if (i < 0) return false
    expected.splice(i, 1)
    return true
  }
  page.on('console', (message) => {
    if (message.type() !== 'error') return
    // Chromium logs every 4xx/5xx answer as a console error too; those are judged, with the
    // failures a test expects, by the answers below.
    if (/^Failed to load resource: the server responded with a status of [45]\d\d/.test(message.text())) return
    problems.push(`console error: ${message.text()} (${message.location().url ?? ''})`)
  })
  page.on('pageerror', (err) => problems.push(`page error: ${(err as Error).message}`))
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText ?? ''}`))
  page.on('response', (response) => {
    const url = response.url()
    if (response.status() < 400) return
    if (allowed(url)) return
    problems.push(`answer ${response.status()}: ${response.request().method()} ${url}`)
  })
  page.on('request', (request) => {
    const url = new URL(request.url())
    // data: and blob: (a MediaSource's object URL) are the page's own.
    if (url.protocol !== 'data:' && url.protocol !== 'blob:' && url.hostname !== '127.0.0.1') problems.push(`external request: ${request.url()}`)
  })
  return { page, problems, expectFailure: (url) => { expected.push(url) } }
}
