/**
 * The dashboard in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
 * against a real server on a temporary database. Tasks are enqueued and worked through the
 * GraphQL API over HTTP, as a producer and a worker would; the page must follow live.
 *
 * Every wait has a deadline; nothing sleeps. Screenshots go to test/dashboard/__output__/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { launchChromium } from '../helpers/chromium.js';

const OUTPUT = fileURLToPath(new URL('./__output__/', import.meta.url));
/** Deadline of every wait for the page. */
const WAIT_MS = 10_000;

let browser: Browser;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  mkdirSync(OUTPUT, { recursive: true });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await browser?.close();
});

// --- the server and its API -----------------------------------------------------------

interface Server {
  app: App;
  base: string;
  /** GraphQL over HTTP; throws on errors. */
  gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

async function startServer(): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'taskwire-dashboard-'));
  const app = await buildApp({ dbPath: join(dir, 'test.db'), port: 0, host: '127.0.0.1', log: () => {} });
  const { port } = await app.start();
  cleanups.push(async () => {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${port}`;
  const gql = async <T>(query: string, variables?: Record<string, unknown>): Promise<T> => {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: unknown[] };
    if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
    return body.data as T;
  };
  return { app, base, gql };
}

/** The number inside a Relay global ID ("Task:12" in base64). */
const taskNumber = (globalId: string) => Number(Buffer.from(globalId, 'base64').toString('utf8').split(':')[1]);

async function enqueue(s: Server, input: Record<string, unknown>): Promise<{ id: string; n: number }> {
  const data = await s.gql<{ enqueueTask: { task: { id: string } } }>(
    'mutation($input: EnqueueTaskInput!) { enqueueTask(input: $input) { task { id } } }',
    { input },
  );
  const id = data.enqueueTask.task.id;
  return { id, n: taskNumber(id) };
}

async function claim(s: Server, input: Record<string, unknown>): Promise<{ id: string; n: number; leaseToken: string }> {
  const data = await s.gql<{ claimTasks: { leaseToken: string; task: { id: string } }[] }>(
    'mutation($input: ClaimTasksInput!) { claimTasks(input: $input) { leaseToken task { id } } }',
    { input },
  );
  const claimed = data.claimTasks[0];
  if (!claimed) throw new Error(`nothing to claim for ${JSON.stringify(input)}`);
  return { id: claimed.task.id, n: taskNumber(claimed.task.id), leaseToken: claimed.leaseToken };
}

const reportProgress = (s: Server, taskId: string, leaseToken: string, progress: number, message?: string) =>
  s.gql('mutation($input: ReportProgressInput!) { reportProgress(input: $input) { id } }', {
    input: { taskId, leaseToken, progress, message },
  });

// --- the page -------------------------------------------------------------------------

interface Opened {
  page: Page;
  /** Uncaught exceptions in the page. */
  pageErrors: Error[];
  /** Authorization headers of the page's HTTP requests to /graphql. */
  httpAuth: (string | undefined)[];
  /** Bodies of the page's HTTP requests to /graphql. */
  httpBodies: string[];
  /** Every message the page sent over a WebSocket, parsed, with the socket's number. */
  wsSent: { socket: number; message: any }[];
}

async function openDashboard(s: Server, query = ''): Promise<Opened> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  cleanups.push(() => context.close());
  const page = await context.newPage();
  const opened: Opened = { page, pageErrors: [], httpAuth: [], httpBodies: [], wsSent: [] };
  page.on('pageerror', (e) => opened.pageErrors.push(e));
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/graphql' && r.method() === 'POST') {
      opened.httpAuth.push(r.headers()['authorization']);
      opened.httpBodies.push(r.postData() ?? '');
    }
  });
  let sockets = 0;
  page.on('websocket', (ws) => {
    const socket = ++sockets;
    ws.on('framesent', (f) => opened.wsSent.push({ socket, message: JSON.parse(String(f.payload)) }));
  });
  await page.goto(`${s.base}/${query}`);
  await waitForAttr(page, 'connection-status', 'data-state', 'live');
  await waitForAttr(page, 'task-table', 'data-state', 'ready');
  return opened;
}

const sel = (testid: string) => `[data-testid="${testid}"]`;

/** Waits until `predicate(arg)` holds in the page; on timeout, says what it was waiting for. */
async function waitInPage<A>(page: Page, what: string, predicate: (arg: A) => unknown, arg: A): Promise<void> {
  try {
    // (playwright types the argument as Unboxed<A>, which is A for plain JSON values)
    await page.waitForFunction(predicate as (arg: unknown) => unknown, arg as unknown, { timeout: WAIT_MS, polling: 50 });
  } catch (e) {
    throw new Error(`timed out after ${WAIT_MS}ms waiting for ${what}: ${(e as Error).message.split('\n')[0]}`);
  }
}

async function waitForText(page: Page, testid: string, expected: string): Promise<void> {
  try {
    await waitInPage(page, `${testid} to read "${expected}"`, ([s, t]) => document.querySelector(s)?.textContent?.trim() === t, [
      sel(testid),
      expected,
    ] as const);
  } catch (e) {
    const actual = await page.locator(sel(testid)).first().textContent({ timeout: 1000 }).catch(() => '(no such element)');
    throw new Error(`${(e as Error).message} (it reads "${actual?.trim()}")`);
  }
}

async function waitForAttr(page: Page, testid: string, attr: string, expected: string): Promise<void> {
  try {
    await waitInPage(page, `${testid} to have ${attr}="${expected}"`, ([s, a, v]) => document.querySelector(s)?.getAttribute(a) === v, [
      sel(testid),
      attr,
      expected,
    ] as const);
  } catch (e) {
    const actual = await page.locator(sel(testid)).first().getAttribute(attr, { timeout: 1000 }).catch(() => '(no such element)');
    throw new Error(`${(e as Error).message} (it is "${actual}")`);
  }
}

async function waitForContains(page: Page, testid: string, expected: string): Promise<void> {
  await waitInPage(page, `${testid} to contain "${expected}"`, ([s, t]) => document.querySelector(s)?.textContent?.includes(t), [
    sel(testid),
    expected,
  ] as const);
}

const waitForRow = (page: Page, n: number) => page.waitForSelector(sel(`task-row-${n}`), { timeout: WAIT_MS });

/** The task numbers of the rows shown, top to bottom. */
const rowNumbers = (page: Page) =>
  page.$$eval('[data-testid^="task-row-"]', (rows) => rows.map((r) => Number((r as HTMLElement).dataset.taskId)));

const rowCells = (page: Page, n: number) =>
  page.$eval(sel(`task-row-${n}`), (row) => [...row.querySelectorAll('td')].map((td) => td.textContent?.trim() ?? ''));

// --- the tests ------------------------------------------------------------------------

describe('the dashboard', () => {
  test('follows a task live from QUEUED to SUCCEEDED, cancels a running one, shows errors, resumes after a reconnect', async () => {
    const s = await startServer();
    const { page, pageErrors, httpAuth, wsSent } = await openDashboard(s, '?token=dashboard-test-token');
    expect(await page.isVisible(sel('empty'))).toBe(true);

    // The token went out on HTTP and in the WebSocket's connection_init, and left the address bar.
    const init = wsSent.find((m) => m.message.type === 'connection_init');
    expect(init?.message.payload).toEqual({ authorization: 'Bearer dashboard-test-token' });
    expect(page.url()).not.toContain('token=');

    // A producer enqueues: the row appears.
    const a = await enqueue(s, {
      type: 'thumbnail',
      queue: 'media',
      payload: { url: 'https://example.com/a.png', format: 'png' },
      compatibility: { region: 'eu-west' },
    });
    await waitForRow(page, a.n);
    await waitForText(page, `task-status-${a.n}`, 'QUEUED');
    const cells = await rowCells(page, a.n);
    expect(cells.slice(0, 9)).toEqual([`#${a.n}`, 'QUEUED', '', 'thumbnail', 'media', 'eu-west', 'png', '—', '0/5']);

    // A worker claims it: RUNNING, under that worker, who shows up in the workers panel.
    const leaseA = await claim(s, { workerId: 'worker-1', queue: 'media', capabilities: { region: 'eu-west', formats: ['png'] } });
    expect(leaseA.n).toBe(a.n);
    await waitForText(page, `task-status-${a.n}`, 'RUNNING');
    expect((await rowCells(page, a.n))[7]).toBe('worker-1');
    await page.waitForSelector(sel('worker-worker-1'), { timeout: WAIT_MS });

    // Its detail pane follows along, logs included.
    await page.click(sel(`task-row-${a.n}`));
    await waitForAttr(page, 'task-detail', 'data-task-id', String(a.n));
    await waitForText(page, 'detail-status', 'RUNNING');

    await reportProgress(s, a.id, leaseA.leaseToken, 0.4, 'resizing');
    await waitForAttr(page, `task-progress-${a.n}`, 'aria-valuenow', '40');
    await waitForAttr(page, 'detail-progress', 'aria-valuenow', '40');
    await waitForContains(page, 'detail-status', 'RUNNING');

    await s.gql('mutation($input: AppendTaskLogInput!) { appendTaskLog(input: $input) { id } }', {
      input: { taskId: a.id, level: 'INFO', message: 'resized to 128px', details: { width: 128 } },
    });
    await waitForContains(page, 'detail-logs', 'resized to 128px');

    await reportProgress(s, a.id, leaseA.leaseToken, 0.8);
    await waitForAttr(page, `task-progress-${a.n}`, 'aria-valuenow', '80');

    await s.gql('mutation($input: CompleteTaskInput!) { completeTask(input: $input) { id } }', {
      input: { taskId: a.id, leaseToken: leaseA.leaseToken, result: { thumbnail: 'a-128.png' } },
    });
    await waitForText(page, `task-status-${a.n}`, 'SUCCEEDED');
    await waitForAttr(page, `task-progress-${a.n}`, 'aria-valuenow', '100');
    await waitForText(page, 'detail-status', 'SUCCEEDED');
    await waitForContains(page, 'detail-result', 'a-128.png');
    await waitInPage(page, 'the stats panel to count 1 SUCCEEDED', ([t, v]) => document.querySelector(`[data-testid="${t}"] .value`)?.textContent === v, [
      'stat-SUCCEEDED',
      '1',
    ] as const);
    await page.click(sel('detail-close'));
    expect(await page.isHidden(sel('task-detail'))).toBe(true);

    // Cancel a running task with the button: cancel requested, then CANCELLED once its worker gives up.
    const b = await enqueue(s, { type: 'thumbnail', queue: 'media', payload: { url: 'b.png', format: 'png' }, compatibility: { region: 'eu-west' } });
    await waitForRow(page, b.n);
    const leaseB = await claim(s, { workerId: 'worker-1', queue: 'media', capabilities: { region: 'eu-west' } });
    expect(leaseB.n).toBe(b.n);
    await waitForText(page, `task-status-${b.n}`, 'RUNNING');
    await page.click(sel(`cancel-${b.n}`));
    await waitForText(page, `task-status-${b.n}`, 'RUNNING · cancelling');
    expect(await page.isDisabled(sel(`cancel-${b.n}`))).toBe(true);
    await s.gql('mutation($input: FailTaskInput!) { failTask(input: $input) { status } }', {
      input: { taskId: b.id, leaseToken: leaseB.leaseToken, error: 'stopped: cancel requested' },
    });
    await waitForText(page, `task-status-${b.n}`, 'CANCELLED');
    expect(await page.isEnabled(sel(`retry-${b.n}`))).toBe(true);

    // An error from the API is shown with its code, and the page carries on: D depends on C;
    // cancelling C cancels D, and D cannot be retried before C.
    const c = await enqueue(s, { type: 'transcode', payload: { format: 'mp4' } });
    const d = await enqueue(s, { type: 'publish', payload: {}, dependsOn: [c.id] });
    await waitForText(page, `task-status-${d.n}`, 'BLOCKED');
    await page.click(sel(`cancel-${c.n}`));
    await waitForText(page, `task-status-${c.n}`, 'CANCELLED');
    await waitForText(page, `task-status-${d.n}`, 'CANCELLED');
    await page.click(sel(`retry-${d.n}`));
    await page.waitForSelector(`${sel('error-toast')}[data-code="INVALID_STATE"]`, { timeout: WAIT_MS });
    await waitForContains(page, 'error-toast', 'retry that task first');
    await page.click(sel(`retry-${c.n}`));
    await waitForText(page, `task-status-${c.n}`, 'QUEUED');

    // Drop the WebSocket from the server side and enqueue while the page is away: the page
    // reconnects, subscribes with the last cursor it saw, and gets the task from the replay.
    const cursorBefore = Number(await page.getAttribute(sel('connection-status'), 'data-cursor'));
    expect(cursorBefore).toBeGreaterThan(0);
    for (const client of s.app.wsServer.clients) client.terminate();
    const e = await enqueue(s, { type: 'thumbnail', payload: { format: 'webp' }, compatibility: { region: 'us-east' } });
    await waitForAttr(page, 'connection-status', 'data-connections', '2');
    await waitForRow(page, e.n);
    await waitForText(page, `task-status-${e.n}`, 'QUEUED');
    const resubscribe = wsSent.find((m) => m.socket === 2 && m.message.type === 'subscribe' && m.message.payload.query.includes('taskEvents'));
    expect(resubscribe, 'taskEvents subscribed again on the new socket').toBeTruthy();
    expect(Number(resubscribe!.message.payload.variables.after)).toBeGreaterThanOrEqual(cursorBefore);

    // A few more tasks so the screenshot shows every colour, one of them half done.
    const f = await enqueue(s, { type: 'transcode', payload: { format: 'mp4' }, compatibility: { region: 'eu-west' } });
    const leaseF = await claim(s, { workerId: 'worker-2', capabilities: { region: 'eu-west' }, types: ['transcode'] });
    await reportProgress(s, leaseF.id, leaseF.leaseToken, 0.55, 'encoding');
    await waitForAttr(page, `task-progress-${leaseF.n}`, 'aria-valuenow', '55');
    expect([f.n, c.n]).toContain(leaseF.n);
    const statValue = ([testid, value]: readonly [string, string]) =>
      document.querySelector(`[data-testid="${testid}"] .value`)?.textContent === value;
    await waitInPage(page, 'the stats panel to count 1 RUNNING', statValue, ['stat-RUNNING', '1'] as const);
    await waitInPage(page, 'the stats panel to count 2 active workers', statValue, ['stat-workers', '2'] as const);
    await page.waitForSelector(sel('worker-worker-2'), { timeout: WAIT_MS });
    await page.screenshot({ path: join(OUTPUT, 'dashboard.png'), fullPage: true });
    await page.click(sel(`task-row-${a.n}`));
    await waitForContains(page, 'detail-logs', 'resized to 128px');
    await page.screenshot({ path: join(OUTPUT, 'dashboard-detail.png') });

    // Every HTTP request carried the token; nothing threw in the page.
    expect(httpAuth.length).toBeGreaterThan(0);
    expect(new Set(httpAuth)).toEqual(new Set(['Bearer dashboard-test-token']));
    expect(pageErrors).toEqual([]);
  }, 90_000);

  test('pages through 10,000 tasks 50 at a time and filters on the server', async () => {
    const s = await startServer();
    const TOTAL = 10_000;
    const types = ['thumbnail', 'thumbnail', 'transcode'];
    for (let start = 0; start < TOTAL; start += 1000) {
      const inputs = Array.from({ length: 1000 }, (_, k) => {
        const i = start + k;
        return {
          type: types[i % 3],
          payload: { format: i % 5 === 0 ? 'jpg' : 'png', i },
          compatibility: { region: i % 4 === 0 ? 'us-east' : 'eu-west' },
        };
      });
      await s.gql('mutation($inputs: [EnqueueTaskInput!]!) { enqueueTasks(inputs: $inputs) { created } }', { inputs });
    }

    const { page, pageErrors, httpBodies } = await openDashboard(s);
    const shownAfterMs = await page.evaluate(() => Math.round(performance.now()));
    console.log(`dashboard with ${TOTAL} tasks: first page live ${shownAfterMs}ms after navigation start`);

    // Newest first, one page of 50, fetched as one page of 50.
    let rows = await rowNumbers(page);
    expect(rows).toHaveLength(50);
    expect(rows[0]).toBe(TOTAL);
    expect(rows[49]).toBe(TOTAL - 49);
    await waitForText(page, 'page-label', 'Page 1 · 1–50');
    const tasksQueries = httpBodies.map((b) => JSON.parse(b)).filter((b) => b.query.includes('tasks('));
    expect(tasksQueries.map((q) => q.variables.first)).toEqual([50]);

    await page.click(sel('page-next'));
    await waitForText(page, 'page-label', 'Page 2 · 51–100');
    rows = await rowNumbers(page);
    expect(rows[0]).toBe(TOTAL - 50);
    expect(rows).toHaveLength(50);
    await page.click(sel('page-next'));
    await waitForText(page, 'page-label', 'Page 3 · 101–150');
    await page.click(sel('page-prev'));
    await waitForText(page, 'page-label', 'Page 2 · 51–100');
    expect((await rowNumbers(page))[0]).toBe(TOTAL - 50);
    await page.click(sel('page-prev'));
    await waitForText(page, 'page-label', 'Page 1 · 1–50');

    // Filters go to the server: every row on the page matches, and the page is full.
    await page.fill(sel('filter-type'), 'transcode');
    await page.fill(sel('filter-region'), 'us-east');
    await page.fill(sel('filter-format'), 'jpg');
    // Task i + 1 matches when i % 3 == 2, i % 4 == 0 and i % 5 == 0: i % 60 == 20.
    const matches = (n: number) => (n - 1) % 60 === 20;
    const expectedTop = Math.max(...Array.from({ length: TOTAL }, (_, i) => i + 1).filter(matches));
    await waitInPage(page, 'the filtered first page', (top) => document.querySelector('[data-testid^="task-row-"]')?.getAttribute('data-task-id') === String(top), expectedTop);
    await waitForAttr(page, 'task-table', 'data-state', 'ready');
    rows = await rowNumbers(page);
    expect(rows).toHaveLength(50);
    for (const n of rows) expect(matches(n), `task ${n} matches the filters`).toBe(true);
    const lastQuery = httpBodies.map((b) => JSON.parse(b)).filter((b) => b.query.includes('tasks(')).pop();
    expect(lastQuery.variables).toEqual({ filter: { type: ['transcode'], region: ['us-east'], format: ['jpg'] }, first: 50, after: null });

    // New tasks appear at the top only when they match the filters.
    const miss = await enqueue(s, { type: 'thumbnail', payload: { format: 'jpg' }, compatibility: { region: 'us-east' } });
    const hit = await enqueue(s, { type: 'transcode', payload: { format: 'jpg' }, compatibility: { region: 'us-east' } });
    await waitForRow(page, hit.n);
    rows = await rowNumbers(page);
    expect(rows[0]).toBe(hit.n);
    expect(rows).toHaveLength(50);
    expect(rows).not.toContain(miss.n);

    // Status filter: nothing runs yet; a claimed task appears, the rest stay out.
    await page.selectOption(sel('filter-status'), 'RUNNING');
    await waitForAttr(page, 'task-table', 'data-state', 'ready');
    await page.waitForSelector(sel('empty'), { state: 'visible', timeout: WAIT_MS });
    // LIFO: the newest transcode task for us-east, which is `hit`.
    const running = await claim(s, { workerId: 'w-transcode', types: ['transcode'], capabilities: { region: 'us-east' }, strategy: 'LIFO' });
    expect(running.n).toBe(hit.n);
    await waitForRow(page, running.n);
    await waitForText(page, `task-status-${running.n}`, 'RUNNING');
    expect(await rowNumbers(page)).toEqual([running.n]);

    await page.click(sel('filter-clear'));
    // The RUNNING view's one row is `hit` too: wait for the full page, not just its top row.
    await waitInPage(
      page,
      'the unfiltered first page',
      (top) => {
        const rows = document.querySelectorAll('[data-testid^="task-row-"]');
        return rows.length === 50 && rows[0]?.getAttribute('data-task-id') === String(top);
      },
      hit.n,
    );
    expect(await rowNumbers(page)).toHaveLength(50);
    expect(pageErrors).toEqual([]);
  }, 120_000);

  test('pauses a queue from the panel, shows a pause made elsewhere, and resumes', async () => {
    const s = await startServer();
    const { page, pageErrors } = await openDashboard(s);
    await waitForText(page, 'paused', 'Nothing is paused.');
    await page.fill(sel('pause-queue'), 'default');
    await page.click(sel('pause-button'));
    await waitInPage(page, 'default in the paused list', (q) => document.querySelector(q) !== null, sel('paused-default'));
    // Paused for real: a task enqueued now is not handed out.
    await enqueue(s, { type: 'held', payload: {} });
    const none = await s.gql<{ claimTasks: unknown[] }>('mutation { claimTasks(input: { workerId: "w" }) { leaseToken } }');
    expect(none.claimTasks).toEqual([]);
    // A pause made elsewhere (the store, as `taskwire queue pause` would) shows up too.
    await s.app.store.pauseQueue({ queue: 'media', type: 'resize' });
    await waitInPage(page, 'media / resize in the paused list', (q) => document.querySelector(q) !== null, sel('paused-media-resize'));
    await page.click(`${sel('paused-default')} button`);
    await waitInPage(page, 'default gone from the list', (q) => document.querySelector(q) === null, sel('paused-default'));
    const claimed = await claim(s, { workerId: 'w' });
    expect(claimed.n).toBeGreaterThan(0);
    expect(await s.app.store.listPauses()).toMatchObject([{ queue: 'media', type: 'resize' }]);
    expect(pageErrors).toEqual([]);
  }, 60_000);

  test('acts on every task the current filter matches, after a confirmation', async () => {
    const s = await startServer();
    for (let i = 0; i < 3; i++) await enqueue(s, { type: 'spam', payload: { i } });
    const ham = await enqueue(s, { type: 'ham', payload: {} });
    const { page, pageErrors } = await openDashboard(s);
    const count = async (status: string, type: string) =>
      (await s.gql<{ tasks: { totalCount: number } }>(`{ tasks(filter: { status: [${status}], type: ["${type}"] }) { totalCount } }`)).tasks.totalCount;
    await page.fill(sel('filter-type'), 'spam');
    // Declined: nothing happens.
    page.once('dialog', (d) => void d.dismiss());
    await page.click(sel('bulk-cancel'));
    expect(await count('CANCELLED', 'spam')).toBe(0);
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    await page.click(sel('bulk-cancel'));
    await waitForAttr(page, 'connection-status', 'data-bulk', 'cancel:3');
    expect(dialogs[0]).toMatch(/^Cancel every queued, blocked and running task that matches the current filter\?/);
    expect(await count('CANCELLED', 'spam')).toBe(3);
    expect(await count('QUEUED', 'ham')).toBe(1);
    await page.click(sel('bulk-retry'));
    await waitForAttr(page, 'connection-status', 'data-bulk', 'retry:3');
    expect(await count('QUEUED', 'spam')).toBe(3);
    expect((await s.app.store.getTask(ham.n))?.status).toBe('QUEUED');
    expect(pageErrors).toEqual([]);
  }, 60_000);
});

