/**
 * The command beside a running server on the same file: an online backup while the
 * server takes writes, and changes made by the command reaching the server's
 * subscribers (its bus, and graphql-ws clients) through the server's outbox tailing.
 */
import Database from 'better-sqlite3';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { openStore, type StoredEvent, type TaskStore } from '../../src/store/index.js';
import { taskwire, tempFolder, waitFor, withDb } from './harness.js';

// Each command is a child process; a loaded machine can make one take seconds.
vi.setConfig({ testTimeout: 120_000 });
const tmp = tempFolder('server');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A server in this process on `db`, with the default outbox tailing (as `taskwire serve` has). */
async function startServer(db: string): Promise<{ app: App; store: TaskStore; port: number }> {
  const store = await openStore({ database: db, role: 'server' });
  const app = await buildApp({ store, port: 0, host: '127.0.0.1', log: () => {} });
  cleanups.push(() => app.stop());
  const { port } = await app.start();
  return { app, store, port };
}

async function gql<T = any>(port: number, query: string, variables?: Record<string, unknown>): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data as T;
}

const ENQUEUE = `mutation($type: String!, $payload: JSON!) { enqueueTask(input: {type: $type, payload: $payload}) { created task { id } } }`;

describe('backup while the server runs', () => {
  it('copies a consistent database while the server keeps taking writes over HTTP', async () => {
    const db = tmp.file('live.db');
    const { store, port } = await startServer(db);
    // Enough pages that the copy takes many steps.
    await store.enqueueMany(Array.from({ length: 3000 }, (_, i) => ({ type: 'seed', payload: { i, pad: 'x'.repeat(300) } })));

    const dest = tmp.file('live-copy.db');
    const backup = taskwire(['backup', dest], { db });
    let done = false;
    void backup.finally(() => (done = true));
    // Writes through the server for as long as the backup runs.
    let writes = 0;
    while (!done) {
      const r = await gql<{ enqueueTask: { created: boolean } }>(port, ENQUEUE, { type: 'during', payload: { n: writes } });
      expect(r.enqueueTask.created).toBe(true);
      writes++;
    }
    const r = await backup;
    expect(r.code, r.stderr).toBe(0);
    expect(writes).toBeGreaterThan(0);
    const reported = Number(/integrity ok, (\d+) tasks/.exec(r.stdout)![1]);

    // The copy, opened read-only: intact, and a snapshot: ids 1..n with no holes.
    const copy = new Database(dest, { readonly: true, fileMustExist: true });
    try {
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      const { n, maxId, seeds } = copy
        .prepare(`SELECT count(*) AS n, max(id) AS maxId, sum(type = 'seed') AS seeds FROM tasks`)
        .get() as { n: number; maxId: number; seeds: number };
      expect(seeds).toBe(3000);
      expect(n).toBe(maxId);
      expect(n).toBe(reported);
      expect(n).toBeLessThanOrEqual(3000 + writes);
    } finally {
      copy.close();
    }
    // The server went on working: its own count includes every write.
    expect(await store.countTasks()).toBe(3000 + writes);
    const after = await gql<{ enqueueTask: { created: boolean } }>(port, ENQUEUE, { type: 'after', payload: {} });
    expect(after.enqueueTask.created).toBe(true);
  });
});

describe("the server's subscribers see what the command changed", () => {
  it('taskwire enqueue and cancel reach the bus and a graphql-ws taskEvents subscription', async () => {
    const db = tmp.file('events.db');
    const { store, port } = await startServer(db);
    const onBus: StoredEvent[] = [];
    cleanups.push(store.bus.subscribe((e) => onBus.push(e)));

    const client: Client = createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    cleanups.push(() => client.dispose());
    const seen: { kind: string; task: { type: string; status: string; payload: unknown } }[] = [];
    const errors: unknown[] = [];
    cleanups.push(
      client.subscribe<{ taskEvents: (typeof seen)[number] }>(
        // after: "0" replays the outbox first, so the probe below cannot slip past before the subscription starts.
        { query: 'subscription { taskEvents(after: "0") { kind task { type status payload } } }' },
        { next: (v) => void seen.push(v.data!.taskEvents), error: (e) => void errors.push(e), complete: () => {} },
      ),
    );
    // The subscription is running once an event written by the server itself arrives.
    await store.enqueue({ type: 'probe', payload: {} });
    await waitFor(() => seen.some((e) => e.task.type === 'probe') || errors.length > 0, 'the probe event');
    expect(errors).toEqual([]);

    const enq = await taskwire(['enqueue', '--type', 'from-cli', '--payload', '{"hello":"server"}'], { db });
    expect(enq.code, enq.stderr).toBe(0);
    const id = Number(/^task (\d+) created/.exec(enq.stdout)![1]);
    // Another process wrote it: the server learns of it only by tailing the outbox.
    await waitFor(() => onBus.find((e) => e.kind === 'ENQUEUED' && e.taskId === id), 'ENQUEUED on the bus');
    const ws = await waitFor(() => seen.find((e) => e.kind === 'ENQUEUED' && e.task.type === 'from-cli'), 'ENQUEUED over graphql-ws');
    expect(ws.task).toEqual({ type: 'from-cli', status: 'QUEUED', payload: { hello: 'server' } });

    const cancel = await taskwire(['cancel', String(id), '--reason', 'changed my mind'], { db });
    expect(cancel.code, cancel.stderr).toBe(0);
    await waitFor(() => seen.find((e) => e.kind === 'CANCELLED' && e.task.type === 'from-cli'), 'CANCELLED over graphql-ws');
    // Once each, in order, and the server's own view agrees.
    const mine = onBus.filter((e) => e.taskId === id).map((e) => e.kind);
    expect(mine).toEqual(['ENQUEUED', 'CANCELLED']);
    const ids = onBus.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    expect((await store.getTask(id))!).toMatchObject({ status: 'CANCELLED', errorMessage: 'changed my mind' });
  });

  it('a retry by the command wakes a worker long-polling the server', async () => {
    const db = tmp.file('retry.db');
    const { store, port } = await startServer(db);
    const id = await withDb(db, async (s) => {
      const { task } = await s.enqueue({ type: 'flaky', payload: {}, maxAttempts: 1 });
      const [c] = await s.claim({ workerId: 'w0' });
      await s.fail({ taskId: task.id, leaseToken: c!.leaseToken, error: 'boom', retryable: false });
      return task.id;
    });
    await waitFor(async () => (await store.getTask(id))?.status === 'FAILED', 'the server to see the FAILED task');
    // A worker waits on the server for work; the command's retry is what gives it some.
    const claim = gql<{ claimTasks: { task: { type: string; attempts: number } }[] }>(
      port,
      'mutation { claimTasks(input: {workerId: "w1", waitSeconds: 20}) { task { type attempts } } }',
    );
    let settled = false;
    void claim.finally(() => (settled = true));
    // The claim found nothing and is waiting (its worker is registered, and it has not returned).
    await waitFor(() => store.getWorker('w1'), 'the worker w1 to be registered by its claim');
    expect(settled).toBe(false);
    const retry = await taskwire(['retry', String(id)], { db });
    expect(retry.code, retry.stderr).toBe(0);
    const claimed = (await claim).claimTasks;
    expect(claimed).toEqual([{ task: { type: 'flaky', attempts: 1 } }]);
  });
});
