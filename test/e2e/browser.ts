/**
 * A real Chromium for browser tests, driven by playwright-core: Debian's `/usr/bin/chromium`
 * (or `CHROMIUM_PATH`), never a downloaded browser.
 *
 * The browser talks to loopback only: every request to another host is aborted (the Temporal
 * UI asks newsfeed.temporal.io for news, for example), and Chromium's own background
 * networking is switched off. Each launch gets a fresh profile in a temp directory.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';

/** Where Debian's `chromium` package puts the browser. */
export const debianChromiumPath = '/usr/bin/chromium';

export type ChromiumLookup = { found: true; executablePath: string } | { found: false; reason: string };

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Chromium to drive: `CHROMIUM_PATH` if set, else `/usr/bin/chromium`. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): ChromiumLookup {
  const fromEnv = env['CHROMIUM_PATH'];
  const executablePath = fromEnv !== undefined && fromEnv !== '' ? fromEnv : debianChromiumPath;
  if (isExecutableFile(executablePath)) return { found: true, executablePath };
  const where = fromEnv !== undefined && fromEnv !== '' ? `CHROMIUM_PATH (${fromEnv})` : debianChromiumPath;
  return {
    found: false,
    reason:
      `no Chromium at ${where}. Install Debian's browser with \`sudo apt-get install chromium\` ` +
      '(or point CHROMIUM_PATH at an existing Chromium); the tests never download one.',
  };
}

/** Chromium switches for a quiet, loopback-only headless browser. */
export const chromiumArgs: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Small screenshots for the docs: every page is this size. */
export const viewport = { width: 1280, height: 800 } as const;

export interface BrowserSession {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Hosts the page tried to reach and was refused (not loopback). */
  readonly blockedRequests: readonly string[];
  /** Saves a viewport screenshot as `<screenshotsDir>/<name>.png`; returns its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

const loopbackHosts: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * Launches Chromium with a fresh profile and one page. Requests to anything but loopback are
 * aborted and listed in `blockedRequests`.
 */
export async function launchBrowser(options: { executablePath: string; screenshotsDir: string; defaultTimeoutMs?: number }): Promise<BrowserSession> {
  const profileDir = await mkdtemp(join(tmpdir(), 'orderflow-chromium-'));
  await mkdir(options.screenshotsDir, { recursive: true });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: options.executablePath,
      headless: true,
      args: [...chromiumArgs],
      viewport,
    });
  } catch (error) {
    await rm(profileDir, { recursive: true, force: true });
    throw new Error(`Could not launch Chromium (${options.executablePath}): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const blockedRequests: string[] = [];
  await context.route(
    () => true,
    async (route) => {
      const url = new URL(route.request().url());
      if (url.protocol === 'data:' || url.protocol === 'blob:' || loopbackHosts.has(url.hostname)) return route.continue();
      blockedRequests.push(`${url.protocol}//${url.host}`);
      return route.abort('blockedbyclient');
    },
  );
  context.setDefaultTimeout(options.defaultTimeoutMs ?? 20_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    blockedRequests,
    async screenshot(name: string): Promise<string> {
      const path = join(options.screenshotsDir, `${name}.png`);
      await page.screenshot({ path, animations: 'disabled', caret: 'hide' });
      return path;
    },
    async close(): Promise<void> {
      await context.close().catch(() => undefined);
      await rm(profileDir, { recursive: true, force: true });
    },
  };
}
