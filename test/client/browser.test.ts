/**
 * taskwire/client in headless Chromium: the entry bundled for the browser by esbuild (its
 * gzipped size is reported and bounded: a frontend pays for every byte), in a page an
 * app serves from its own origin, then used as a frontend would: enqueue, and follow the
 * task live to SUCCEEDED while a worker (the test, on the store) runs it.
 */
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { frontend, type Frontend } from '../helpers/chromium.js';

const ENTRY = fileURLToPath(new URL('../../src/client/index.ts', import.meta.url));
/** The bound on the gzipped bundle (graphql-ws is most of it). */
const MAX_GZIP_BYTES = 10 * 1024;

let bundle: string;
let fx: Frontend;

beforeAll(async () => {
  const out = await build({ entryPoints: [ENTRY], bundle: true, format: 'iife', globalName: 'Taskwire', platform: 'browser', minify: true, write: false });
  bundle = out.outputFiles[0]!.text;
  fx = await frontend(bundle);
}, 60_000);

afterAll(() => fx?.close());

test('the browser bundle is small and needs nothing from Node', () => {
  const gzipped = gzipSync(bundle).length;
  console.log(`taskwire/client for the browser: ${bundle.length} bytes minified, ${gzipped} bytes gzipped`);
  expect(gzipped).toBeLessThan(MAX_GZIP_BYTES);
  expect(bundle).not.toMatch(/require\(["'](?:node:|ws["'])/);
});

test('a page enqueues a task and watches it go from QUEUED to SUCCEEDED', { timeout: 30_000 }, async () => {
  const page = await fx.browser.newPage();
  try {
    await page.goto(fx.pageUrl);
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
    const [c] = await fx.app.store.claim({ workerId: 'w' });
    expect(c!.task.id).toBe(Number(Buffer.from(taskId, 'base64').toString().split(':')[1]));
    await fx.app.store.reportProgress({ taskId: c!.task.id, leaseToken: c!.leaseToken, progress: 0.25 });
    await fx.app.store.complete({ taskId: c!.task.id, leaseToken: c!.leaseToken });
    await expect.poll(seen, { timeout: 10_000 }).toEqual(['QUEUED:-', 'RUNNING:-', 'RUNNING:0.25', 'SUCCEEDED:1']);
  } finally {
    await page.close();
  }
});
