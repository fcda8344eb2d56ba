/**
 * taskwire/client in headless Chromium: the entry bundled for the browser by esbuild (its
 * gzipped size is reported and bounded: a frontend pays for every byte), in a page an
 * app serves from its own origin, then used as a frontend would: enqueue, and follow the
 * task live to SUCCEEDED while a worker (the test, on the store) runs it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { launchChromium } from '../helpers/chromium.js';

const ENTRY = fileURLToPath(new URL('../../src/client/index.ts', import.meta.url));
/** The bound on the gzipped bundle (graphql-ws is most of it). */
const MAX_GZIP_BYTES = 10 * 1024;

let browser: Browser;
let app: App;
let base: string;
let dir: string;
let bundle: string;
/** The frontend's own origin: a page with the bundle, as an app would serve it. */
let appServer: Server;
let appBase: string;

beforeAll(async () => {
  const out = await build({ entryPoints: [ENTRY], bundle: true, format: 'iife', globalName: 'Taskwire', platform: 'browser', minify: true, write: false });
  bundle = out.outputFiles[0]!.text;
  dir = mkdtempSync(join(tmpdir(), 'taskwire-client-browser-'));
  app = await buildApp({ dbPath: join(dir, 'test.db'), port: 0, host: '127.0.0.1', log: () => {} });
  base = `http://127.0.0.1:${(await app.start()).port}`;
  const page = `<!doctype html><html><body><script>window.API = ${JSON.stringify(`${base}/graphql`)};</script><script>${bundle}</script></body></html>`;
  appServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(page));
  await new Promise<void>((resolve) => appServer.listen(0, '127.0.0.1', resolve));
  appBase = `http://127.0.0.1:${(appServer.address() as AddressInfo).port}/`;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => appServer?.close(resolve));
  await app?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the browser bundle is small and needs nothing from Node', () => {
  const gzipped = gzipSync(bundle).length;
  console.log(`taskwire/client for the browser: ${bundle.length} bytes minified, ${gzipped} bytes gzipped`);
  expect(gzipped).toBeLessThan(MAX_GZIP_BYTES);
  expect(bundle).not.toMatch(/require\(["'](?:node:|ws["'])/);
});

test('a page enqueues a task and watches it go from QUEUED to SUCCEEDED', { timeout: 30_000 }, async () => {
  const page = await browser.newPage();
  try {
    await page.goto(appBase);
    const taskId = await page.evaluate(async () => {
      const w = window as unknown as { Taskwire: typeof import('../../src/client/index.js'); seen: string[] };
      const tw = w.Taskwire.createClient({ url: (window as unknown as { API: string }).API });
      w.seen = [];
      const { task } = await tw.enqueue({ type: 'browser', payload: { from: 'chromium' } });
      tw.watchTask(task.id, (t) => w.seen.push(`${t.status}:${t.progress ?? '-'}`));
      return task.id;
    });
    const seen = () => page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    await expect.poll(seen, { timeout: 10_000 }).toEqual(['QUEUED:-']);
    const [c] = await app.store.claim({ workerId: 'w' });
    expect(c!.task.id).toBe(Number(Buffer.from(taskId, 'base64').toString().split(':')[1]));
    await app.store.reportProgress({ taskId: c!.task.id, leaseToken: c!.leaseToken, progress: 0.25 });
    await app.store.complete({ taskId: c!.task.id, leaseToken: c!.leaseToken });
    await expect.poll(seen, { timeout: 10_000 }).toEqual(['QUEUED:-', 'RUNNING:-', 'RUNNING:0.25', 'SUCCEEDED:1']);
  } finally {
    await page.close();
  }
});
