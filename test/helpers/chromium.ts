/**
 * Headless Chromium for browser tests: Debian's /usr/bin/chromium driven by playwright-core
 * (`npx playwright install` cannot download here), a clear error when it is missing; and
 * for the frontend tests, a server plus a page that loads a bundle from another origin.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { buildApp, type App } from '../../src/app.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `the browser tests need Chromium at ${CHROMIUM} and it is missing: install Debian's package ` +
        '(apt-get install chromium; .ci/run does this). `npx playwright install` does not work here.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export interface Frontend {
  browser: Browser;
  /** The Taskwire server (buildApp on a temporary database). */
  app: App;
  /** Its origin, http://127.0.0.1:port. */
  base: string;
  /** A page on an origin of its own (as an app would serve it): `body`, then the bundle, with window.API = the server's /graphql. */
  pageUrl: string;
  close(): Promise<void>;
}

/** A server, a page that loads `bundle`, and Chromium: what a frontend test needs. */
export async function frontend(bundle: string, body = ''): Promise<Frontend> {
  const dir = mkdtempSync(join(tmpdir(), 'taskwire-frontend-'));
  const app = await buildApp({ dbPath: join(dir, 'test.db'), port: 0, host: '127.0.0.1', log: () => {} });
  const base = `http://127.0.0.1:${(await app.start()).port}`;
  const html = `<!doctype html><html><body>${body}<script>window.API = ${JSON.stringify(`${base}/graphql`)};</script><script>${bundle}</script></body></html>`;
  const pages = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  const browser = await launchChromium();
  return {
    browser,
    app,
    base,
    pageUrl: `http://127.0.0.1:${(pages.address() as AddressInfo).port}/`,
    async close() {
      await browser.close();
      await new Promise((resolve) => pages.close(resolve));
      await app.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
