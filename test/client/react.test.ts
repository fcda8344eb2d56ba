/**
 * taskwire/react in headless Chromium: a page (fixtures/react-app.ts, bundled by esbuild
 * with React) on an origin of its own enqueues a task, shows it live from QUEUED to
 * SUCCEEDED with its progress and log lines, shows a refused input's code, and closes its
 * subscriptions when the panel unmounts (the server's taskwire_subscriptions gauge).
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { frontend, type Frontend } from '../helpers/chromium.js';

const APP = fileURLToPath(new URL('./fixtures/react-app.ts', import.meta.url));

let fx: Frontend;

beforeAll(async () => {
  const out = await build({ entryPoints: [APP], bundle: true, format: 'iife', platform: 'browser', minify: true, write: false, define: { 'process.env.NODE_ENV': '"production"' } });
  fx = await frontend(out.outputFiles[0]!.text, '<div id="root"></div>');
}, 60_000);

afterAll(() => fx?.close());

const text = (page: Page, selector: string) => page.locator(selector).innerText();

async function subscriptionsOnServer(): Promise<number> {
  const metrics = await (await fetch(`${fx.base}/metrics`)).text();
  return Number(/^taskwire_subscriptions (\d+)/m.exec(metrics)![1]);
}

test('a React page enqueues, follows its task live, shows a refusal, and unsubscribes on unmount', { timeout: 60_000 }, async () => {
  const page = await fx.browser.newPage();
  try {
    await page.goto(fx.pageUrl);
    await expect.poll(() => text(page, '#queued'), { timeout: 10_000 }).toBe('0');
    const before = await subscriptionsOnServer();

    await page.click('#enqueue');
    await expect.poll(() => text(page, '#status'), { timeout: 10_000 }).toBe('QUEUED -');
    await expect.poll(() => text(page, '#queued')).toBe('1');
    const id = Number(Buffer.from(await text(page, '#task-id'), 'base64').toString().split(':')[1]);
    // useTask and useTaskLogs: two more subscriptions.
    await expect.poll(subscriptionsOnServer).toBe(before + 2);

    const [c] = await fx.app.store.claim({ workerId: 'w', types: ['react'] });
    expect(c!.task.id).toBe(id);
    await expect.poll(() => text(page, '#queued')).toBe('0');
    await fx.app.store.appendLog({ taskId: id, level: 'INFO', message: 'resizing' });
    await fx.app.store.reportProgress({ taskId: id, leaseToken: c!.leaseToken, progress: 0.5, message: 'half way' });
    await expect.poll(() => text(page, '#status')).toBe('RUNNING 0.5 half way');
    await expect.poll(() => text(page, '#logs')).toBe('resizing');
    await fx.app.store.appendLog({ taskId: id, level: 'INFO', message: 'done resizing' });
    await fx.app.store.complete({ taskId: id, leaseToken: c!.leaseToken });
    await expect.poll(() => text(page, '#status')).toBe('SUCCEEDED 1 half way');
    await expect.poll(() => text(page, '#logs')).toBe('resizing\ndone resizing');

    await page.click('#bad');
    await expect.poll(() => text(page, '#enqueue-status')).toBe('error VALIDATION');

    await page.click('#hide');
    await expect.poll(subscriptionsOnServer).toBe(before);
  } finally {
    await page.close();
  }
});
