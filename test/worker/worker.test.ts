/**
 * The worker runner against a real server (in-process buildApp on a database of its
 * own, real sockets): concurrency, progress to a subscriber, cancel, retries, lease loss
 * and stop().
 */
import { afterEach, describe, expect, test } from 'vitest';
import {
  LeaseLostError,
  NonRetryableError,
  TaskCancelledError,
  WorkerStoppedError,
  createWorker,
  type WorkerOptions,
} from '../../src/worker/index.js';
import {
  cleanup,
  enqueue,
  enqueueMany,
  getTask,
  quietLogger,
  startServer,
  subscriber,
  track,
  waitFor,
  type Server,
} from './harness.js';

afterEach(cleanup);

function worker<P = any, R = unknown>(server: Server, options: Partial<WorkerOptions<P, R>> & Pick<WorkerOptions<P, R>, 'handler'>) {
  return track(
    createWorker<P, R>({
      url: server.url,
      workerId: 'test-worker',
      leaseSeconds: 3,
      waitSeconds: 1,
      logger: quietLogger,
      reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
      ...options,
    }),
  );
}

const untilAborted = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

describe('createWorker against a real server', () => {
  test('never runs more handlers at once than its concurrency', async () => {
    const server = await startServer();
    const ids = await enqueueMany(
      server,
      Array.from({ length: 10 }, (_, i) => ({ type: 'slow', payload: { n: i } })),
    );
    let active = 0;
    let maxActive = 0;
    const runs = new Map<string, number>();
    const w = worker<{ n: number }, { n: number }>(server, {
      concurrency: 3,
      handler: async (task) => {
        runs.set(task.id, (runs.get(task.id) ?? 0) + 1);
        active++;
        maxActive = Math.max(maxActive, active);
        try {
          await new Promise((r) => setTimeout(r, 120));
          return { n: task.payload.n };
        } finally {
          active--;
        }
      },
    });
    let connections = 0;
    server.app.wsServer.on('connection', () => connections++);
    const completed: string[] = [];
    w.on('completed', (task) => completed.push(task.id));
    await w.start();
    await waitFor(() => completed.length === 10, () => `10 completions (have ${completed.length})`);

    // Claims, heartbeats, progress and completions all went over one socket.
    expect(connections).toBe(1);
    expect(server.app.wsServer.clients.size).toBe(1);
    expect(maxActive).toBe(3);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    for (const [i, id] of ids.entries()) {
      const t = await getTask(server, id);
      expect(t).toMatchObject({ status: 'SUCCEEDED', attempts: 1, result: { n: i } });
    }
    expect(new Set(completed)).toEqual(new Set(ids));
  });

  test('progress and log lines reach a subscriber while the handler runs', async () => {
    const server = await startServer();
    const id = await enqueue(server, { type: 'encode' });
    const seen: { progress: number | null; progressMessage: string | null; status: string }[] = [];
    const client = subscriber(server.wsUrl);
    client.subscribe(
      { query: `subscription ($id: ID!) { taskUpdated(id: $id) { status progress progressMessage } }`, variables: { id } },
      { next: (r) => void seen.push((r.data as any).taskUpdated), error: () => {}, complete: () => {} },
    );
    await waitFor(() => seen.length > 0, 'the first taskUpdated');

    const steps = [0.25, 0.5, 0.75];
    const w = worker(server, {
      handler: async (_task, ctx) => {
        await ctx.log('info', 'starting', { steps: steps.length });
        for (const p of steps) {
          await ctx.progress(p, `step ${p}`);
          // Go on only once the subscriber has seen it: no step is coalesced away.
          await waitFor(() => seen.some((s) => s.progress === p), `progress ${p} at the subscriber`);
        }
        await ctx.log('warn', 'almost done');
        return 'ok';
      },
    });
    await w.start();
    await waitFor(() => seen.at(-1)?.status === 'SUCCEEDED', 'SUCCEEDED at the subscriber');

    const progress = seen.map((s) => s.progress).filter((p): p is number => p !== null);
    expect(progress.filter((p) => steps.includes(p))).toEqual(steps);
    expect(seen.find((s) => s.progress === 0.5)?.progressMessage).toBe('step 0.5');
    expect(seen.at(-1)).toMatchObject({ status: 'SUCCEEDED', progress: 1 });

    const logs = await server.ok(`query ($id: ID!) { task(id: $id) { logs { edges { node { level message details } } } } }`, { id });
    expect(logs.task.logs.edges.map((e: any) => e.node)).toEqual([
      { level: 'INFO', message: 'starting', details: { steps: 3 } },
      { level: 'WARN', message: 'almost done', details: null },
    ]);
  });

  test('cancelling a running task aborts its handler and the task ends CANCELLED', async () => {
    const server = await startServer();
    const id = await enqueue(server, { type: 'long' });
    let started = false;
    let abortReason: unknown = null;
    const w = worker(server, {
      handler: async (_task, ctx) => {
        started = true;
        ctx.signal.addEventListener('abort', () => (abortReason = ctx.signal.reason));
        await untilAborted(ctx.signal);
      },
    });
    const failed: { reason: string; status: string | null }[] = [];
    w.on('failed', (_t, _e, info) => failed.push(info));
    await w.start();
    await waitFor(() => started, 'the handler to start');

    const cancelled = await server.ok(`mutation ($id: ID!) { cancelTask(id: $id, reason: "user asked") { status cancelRequested } }`, { id });
    expect(cancelled.cancelTask).toEqual({ status: 'RUNNING', cancelRequested: true });

    await waitFor(async () => (await getTask(server, id)).status === 'CANCELLED', 'the task to end CANCELLED');
    await waitFor(() => failed.length > 0, "the worker's failed event");
    expect(abortReason).toBeInstanceOf(TaskCancelledError);
    expect(failed).toEqual([{ reason: 'cancelled', status: 'CANCELLED' }]);
    expect((await getTask(server, id)).attempts).toBe(1);
  });

  test('a handler error schedules a retry, and the next attempt succeeds', async () => {
    const server = await startServer({ backoffBaseMs: 50 });
    const id = await enqueue(server, { type: 'flaky', maxAttempts: 3 });
    const attempts: number[] = [];
    const w = worker(server, {
      handler: async (task, ctx) => {
        attempts.push(ctx.attempt);
        if (task.attempt === 1) throw new Error('upstream timed out');
        return { attempt: task.attempt };
      },
    });
    const failed: { message: string; status: string | null }[] = [];
    w.on('failed', (_t, e, info) => failed.push({ message: e.message, status: info.status }));
    await w.start();
    await waitFor(async () => (await getTask(server, id)).status === 'SUCCEEDED', 'the task to succeed');
    await waitFor(() => failed.length > 0, "the worker's failed event");

    expect(attempts).toEqual([1, 2]);
    // The failed attempt went back to the queue (RETRY_SCHEDULED), not to FAILED.
    expect(failed).toEqual([{ message: 'upstream timed out', status: 'QUEUED' }]);
    const events = await server.store.eventsAfter(0, 1000);
    const kinds = events.filter((e) => e.taskId === Number(Buffer.from(id, 'base64').toString().split(':')[1])).map((e) => e.kind);
    expect(kinds).toContain('RETRY_SCHEDULED');
    expect(await getTask(server, id)).toMatchObject({ status: 'SUCCEEDED', attempts: 2, result: { attempt: 2 } });
  });

  test('an error with retryAfterSeconds sets the retry delay', async () => {
    const server = await startServer({ backoffBaseMs: 3_600_000 });
    const id = await enqueue(server, { type: 'flaky' });
    const w = worker(server, {
      handler: async (task) => {
        if (task.attempt === 1) throw Object.assign(new Error('rate limited'), { retryAfterSeconds: 0 });
        return 'second time lucky';
      },
    });
    await w.start();
    // With the store's backoff at an hour, only retryAfterSeconds: 0 makes this quick.
    await waitFor(async () => (await getTask(server, id)).status === 'SUCCEEDED', 'the retry to run at once');
    expect(await getTask(server, id)).toMatchObject({ attempts: 2, result: 'second time lucky' });
  });

  test('a NonRetryableError sends the task straight to FAILED', async () => {
    const server = await startServer();
    const id = await enqueue(server, { type: 'doomed', maxAttempts: 5 });
    let runs = 0;
    const w = worker(server, {
      handler: async () => {
        runs++;
        throw new NonRetryableError('the input file is corrupt');
      },
    });
    const failed: { reason: string; status: string | null }[] = [];
    w.on('failed', (_t, _e, info) => failed.push(info));
    await w.start();
    await waitFor(async () => (await getTask(server, id)).status === 'FAILED', 'the task to fail');
    await waitFor(() => failed.length > 0, "the worker's failed event");

    expect(await getTask(server, id)).toMatchObject({ status: 'FAILED', attempts: 1, errorMessage: 'the input file is corrupt' });
    expect(runs).toBe(1);
    expect(failed).toEqual([{ reason: 'error', status: 'FAILED' }]);
  });

  test('a lease lost to a timeout aborts the handler, sends nothing for it, and the next attempt runs', async () => {
    const server = await startServer();
    const id = await enqueue(server, { type: 'stuck', timeoutSeconds: 1, maxAttempts: 3 });
    const reasons: unknown[] = [];
    const w = worker(server, {
      leaseSeconds: 2,
      handler: async (task, ctx) => {
        if (task.attempt === 1) {
          try {
            await untilAborted(ctx.signal);
          } catch (e) {
            reasons.push(e);
            // Even a result returned after the abort must not be sent for a lost lease.
            return 'too late';
          }
        }
        return 'fresh attempt';
      },
    });
    const events: string[] = [];
    w.on('failed', (_t, _e, info) => events.push(`failed:${info.reason}`));
    w.on('completed', (t, r) => events.push(`completed:${t.attempt}:${String(r)}`));
    await w.start();
    await waitFor(async () => (await getTask(server, id)).status === 'SUCCEEDED', 'the second attempt to succeed', 15_000);
    await waitFor(() => events.length === 2, () => `two worker events (have ${JSON.stringify(events)})`);

    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toBeInstanceOf(LeaseLostError);
    expect(events).toEqual(['failed:lease-lost', 'completed:2:fresh attempt']);
    expect(await getTask(server, id)).toMatchObject({ attempts: 2, result: 'fresh attempt' });
  });

  test('a handler that ignores the abort keeps its slot, and the next attempt of the same task runs beside it', async () => {
    const server = await startServer();
    const id = await enqueue(server, { type: 'stubborn', timeoutSeconds: 1, maxAttempts: 3 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let firstAborted = false;
    const w = worker(server, {
      concurrency: 2,
      leaseSeconds: 2,
      handler: async (task, ctx) => {
        if (task.attempt === 1) {
          ctx.signal.addEventListener('abort', () => (firstAborted = true));
          await gate; // ignores the signal
          return 'stale result';
        }
        return 'fresh result';
      },
    });
    const events: string[] = [];
    w.on('failed', (t, _e, info) => events.push(`failed:${t.attempt}:${info.reason}`));
    w.on('completed', (t, r) => events.push(`completed:${t.attempt}:${String(r)}`));
    await w.start();
    await waitFor(() => events.includes('completed:2:fresh result'), () => `the second attempt to complete (${JSON.stringify(events)})`, 15_000);
    expect(firstAborted).toBe(true);
    expect(w.running).toBe(1); // the stubborn first attempt still holds its slot

    release();
    await waitFor(() => events.length === 2 && w.running === 0, () => `the first attempt to wind up (${JSON.stringify(events)})`);
    expect(events).toEqual(['completed:2:fresh result', 'failed:1:lease-lost']);
    expect(await getTask(server, id)).toMatchObject({ status: 'SUCCEEDED', attempts: 2, result: 'fresh result' });
  });

  test('stop() waits for tasks in flight to finish', async () => {
    const server = await startServer();
    const id = await enqueue(server, { type: 'short' });
    let started = false;
    const w = worker(server, {
      handler: async () => {
        started = true;
        await new Promise((r) => setTimeout(r, 300));
        return 'finished';
      },
    });
    await w.start();
    await waitFor(() => started, 'the handler to start');
    await w.stop({ timeoutMs: 10_000 });
    expect(await getTask(server, id)).toMatchObject({ status: 'SUCCEEDED', result: 'finished' });
    expect(w.running).toBe(0);
  });

  test('stop() past its deadline aborts the handler and fails the attempt as retryable', async () => {
    const server = await startServer();
    const [busy, waiting] = await enqueueMany(server, [{ type: 'endless' }, { type: 'endless', delaySeconds: 3600 }]);
    let started = false;
    let reason: unknown = null;
    const w = worker(server, {
      handler: async (_task, ctx) => {
        started = true;
        try {
          await untilAborted(ctx.signal);
        } catch (e) {
          reason = e;
          throw e;
        }
      },
    });
    const failed: { reason: string; status: string | null }[] = [];
    w.on('failed', (_t, _e, info) => failed.push(info));
    await w.start();
    await waitFor(() => started, 'the handler to start');
    const t0 = Date.now();
    await w.stop({ timeoutMs: 300 });
    expect(Date.now() - t0).toBeLessThan(5000);

    expect(reason).toBeInstanceOf(WorkerStoppedError);
    expect(failed).toEqual([{ reason: 'stopped', status: 'QUEUED' }]);
    expect(await getTask(server, busy!)).toMatchObject({ status: 'QUEUED', attempts: 1 });
    expect(await getTask(server, waiting!)).toMatchObject({ status: 'QUEUED', attempts: 0 });
    expect(w.connected).toBe(false);
  });

  test('metadata from the handler reaches the task in order with its log lines, before its completion', async () => {
    const server = await startServer();
    const [id] = await enqueueMany(server, [{ type: 'meta', payload: {} }]);
    const w = worker(server, {
      handler: async (_task, ctx) => {
        await ctx.mergeMetadata({ step: 'resize', stats: { done: 1 } });
        await ctx.log('info', 'resized');
        await ctx.mergeMetadata({ stats: { total: 2 }, step: null });
        return { ok: true };
      },
    });
    const completed: string[] = [];
    w.on('completed', (t) => completed.push(t.id));
    await w.start();
    await waitFor(() => completed.length === 1, 'the completion');
    const t = await server.ok<{ task: { metadata: unknown } }>(`query($id: ID!) { task(id: $id) { metadata } }`, { id });
    expect(t.task.metadata).toEqual({ stats: { done: 1, total: 2 } });
    const kinds = (await server.store.eventsAfter(0, 100)).map((e) => e.kind).filter((k) => k !== 'WORKER_UPDATED');
    expect(kinds).toEqual(['ENQUEUED', 'CLAIMED', 'METADATA', 'LOG_ADDED', 'METADATA', 'SUCCEEDED']);
  });
});

