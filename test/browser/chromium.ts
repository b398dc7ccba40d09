/**
 * Headless Chromium for browser tests: the system's /usr/bin/chromium driven by playwright-core
 * (no browser is ever downloaded). Pages record console errors and failed requests, so a test
 * can assert that a page ran cleanly.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { REPO_ROOT } from '../helpers/node-process.ts'

export const CHROMIUM_PATH = process.env.CATENA_CHROMIUM ?? '/usr/bin/chromium'

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Where screenshots go (test artifacts, not committed). */
export const ARTIFACTS_DIR = join(REPO_ROOT, 'test-artifacts', 'explorer')

const EXPLORER_BUILD = join(REPO_ROOT, 'artifacts', 'explorer', 'index.html')

/** Builds the explorer when there is no build or explorer/ changed since the last one. */
export async function ensureExplorerBuild(): Promise<void> {
  const built = await stat(EXPLORER_BUILD).then((s) => s.mtimeMs, () => 0)
  const sources = await readdir(join(REPO_ROOT, 'explorer'), { recursive: true })
  const newest = Math.max(...(await Promise.all(sources.map((f) => stat(join(REPO_ROOT, 'explorer', f)).then((s) => s.mtimeMs)))))
  if (built > newest) return
  await promisify(execFile)(process.execPath, [join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'explorer/vite.config.ts', '--logLevel', 'warn'], { cwd: REPO_ROOT })
}

export class ChromiumMissingError extends Error {
  override readonly name = 'ChromiumMissingError'
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new ChromiumMissingError(`no Chromium at ${CHROMIUM_PATH} (install the Debian chromium package or set CATENA_CHROMIUM)`)
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 })
}

export interface WatchedPage {
  page: Page
  context: BrowserContext
  /** Console errors and uncaught exceptions in the page. */
  errors: string[]
  close(): Promise<void>
}

/** A fresh context and page with the given viewport, recording what goes wrong in it. */
export async function openPage(browser: Browser, viewport = { width: 1280, height: 900 }): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 })
  const page = await context.newPage()
  page.setDefaultTimeout(30_000)
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`))
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`)
  })
  return { page, context, errors, close: () => context.close() }
}

/** Saves a full-page screenshot as test-artifacts/explorer/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string, path?: string): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true })
  const file = path ?? join(ARTIFACTS_DIR, `${name}.png`)
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' })
  return file
}

/** How far the document is wider than the viewport, in CSS pixels (0 = no horizontal scroll). */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate('Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth') as Promise<number>
}

/**
 * Polls a JavaScript expression in the page until it is truthy. (page.waitForFunction with a
 * string would eval inside the page, which the explorer's Content-Security-Policy forbids.)
 */
export async function waitForExpression(page: Page, expression: string, opts: { timeoutMs?: number; what?: string } = {}): Promise<void> {
  const timeout = opts.timeoutMs ?? 30_000
  const deadline = Date.now() + timeout
  let last: unknown
  for (;;) {
    try {
      if (await page.evaluate(expression)) return
      last = undefined
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) {
      const why = last ? ` (last error: ${(last as Error).message})` : ''
      throw new Error(`timed out after ${timeout} ms waiting for ${opts.what ?? expression}${why}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}
