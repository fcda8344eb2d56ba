/**
 * The runner works in sets. The completions (and the failures) of one claimed
 * batch go out as one completeTasks (one failTasks), watched on the socket by a proxy.
 * A batch the server refuses because of one lost lease still completes the others.
 * Prefetch: tasks claimed beyond the free slots wait locally, and go back at stop.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { createWorker, NonRetryableError, type WorkerOptions } from '../../src/worker/index.js';
import { cleanup, closeProxies, enqueueMany, getTask, proxyTo, quietLogger, startServer, track, waitFor, type Proxy } from './harness.js';

afterEach(async () => {
  await cleanup();
  await closeProxies();
});

/** The operations the worker sent, by root field, with their input counts. */
function sentOps(proxy: Proxy): { field: string; inputs: number }[] {
  return proxy.sent
    .filter((m) => m.type === 'subscribe')
    .map((m) => {
      const field = /\{\s*(\w+)\(/.exec(m.payload.query)![1]!;
      return { field, inputs: m.payload.variables?.inputs?.length ?? 1 };
    });
}

async function setup(n: number, handler: WorkerOptions['handler'], extra: Partial<WorkerOptions> = {}) {
  const server = await startServer();
  const proxy = await proxyTo(server.wsUrl, () => false);
  const ids = await enqueueMany(
    server,
    Array.from({ length: n }, (_, i) => ({ type: 'batch', payload: { i }, maxAttempts: 1 })),
  );
  const worker = track(createWorker({ url: proxy.url, concurrency: n, waitSeconds: 1, logger: quietLogger, handler, ...extra }));
  const completed: string[] = [];
  const failed: { id: string; reason: string; status: string | null }[] = [];
  worker.on('completed', (t) => completed.push(t.id));
  worker.on('failed', (t, _e, info) => failed.push({ id: t.id, reason: info.reason, status: info.status }));
  return { server, proxy, ids, worker, completed, failed };
}

describe('outcomes in sets', () => {
  test('the completions of one claimed batch go out as one completeTasks', async () => {
    const t = await setup(20, (task) => ({ i: (task.payload as { i: number }).i }));
    await t.worker.start();
    await waitFor(() => t.completed.length === 20, () => `20 completions (have ${t.completed.length})`);
    const outcomes = sentOps(t.proxy).filter((o) => o.field.startsWith('complete') || o.field.startsWith('fail'));
    expect(outcomes).toEqual([{ field: 'completeTasks', inputs: 20 }]);
    for (const [i, id] of t.ids.entries()) expect(await getTask(t.server, id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1, result: { i } });
    expect(new Set(t.completed)).toEqual(new Set(t.ids));
  });

  test('the failures of one claimed batch go out as one failTasks, each with its own answer', async () => {
    const t = await setup(5, (task) => {
      const i = (task.payload as { i: number }).i;
      throw i % 2 === 0 ? new NonRetryableError(`bad input ${i}`) : new Error(`flaky ${i}`);
    });
    await t.worker.start();
    await waitFor(() => t.failed.length === 5, () => `5 failures (have ${t.failed.length})`);
    const outcomes = sentOps(t.proxy).filter((o) => o.field.startsWith('complete') || o.field.startsWith('fail'));
    expect(outcomes).toEqual([{ field: 'failTasks', inputs: 5 }]);
    expect(t.failed.map((f) => [f.reason, f.status])).toEqual(Array.from({ length: 5 }, () => ['error', 'FAILED']));
    for (const [i, id] of t.ids.entries()) expect(await getTask(t.server, id)).toMatchObject({ status: 'FAILED', errorMessage: i % 2 === 0 ? `bad input ${i}` : `flaky ${i}` });
  });

  test('one lost lease in a batch: the batch is refused, each is sent on its own, the others complete', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const leases = new Map<string, string>();
    // A long lease: no heartbeat between the steal and the outcomes tells the worker first.
    const t = await setup(
      3,
      async (task, ctx) => {
        leases.set(task.id, ctx.leaseToken);
        await gate;
        return { ok: true };
      },
      { leaseSeconds: 60 },
    );
    await t.worker.start();
    await waitFor(() => leases.size === 3, 'three handlers running');
    // The attempt of the second task ends on the server (as an operator or a sweep would end it).
    const stolen = t.ids[1]!;
    const r = await t.server.gql(`mutation($input: FailTaskInput!) { failTask(input: $input) { status } }`, {
      input: { taskId: stolen, leaseToken: leases.get(stolen), error: 'ended elsewhere', retryable: false },
    });
    expect(r.errors).toBeUndefined();
    open();
    await waitFor(() => t.completed.length + t.failed.length === 3, 'three outcomes');
    const outcomes = sentOps(t.proxy).filter((o) => o.field.startsWith('complete'));
    expect(outcomes).toEqual([
      { field: 'completeTasks', inputs: 3 },
      { field: 'completeTask', inputs: 1 },
      { field: 'completeTask', inputs: 1 },
      { field: 'completeTask', inputs: 1 },
    ]);
    expect(new Set(t.completed)).toEqual(new Set([t.ids[0], t.ids[2]]));
    expect(t.failed).toEqual([{ id: stolen, reason: 'lease-lost', status: null }]);
    expect((await getTask(t.server, stolen)).status).toBe('FAILED');
    expect((await getTask(t.server, t.ids[0]!)).status).toBe('SUCCEEDED');
  });
});

/** A handler that notes each task it starts and returns once `open()` is called. */
function gated() {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const started: string[] = [];
  const handler = async (task: { id: string }) => {
    started.push(task.id);
    await gate;
    return { ok: true };
  };
  return { handler, started, open };
}

describe('prefetch', () => {
  test('claims the free slots plus the prefetch, runs no more than its concurrency, and completes each once', async () => {
    let active = 0;
    let maxActive = 0;
    const t = await setup(
      4,
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setTimeout(r, 30));
        active--;
        return { ok: true };
      },
      { concurrency: 1, prefetch: 3 },
    );
    await t.worker.start();
    await waitFor(() => t.completed.length === 4, () => `4 completions (have ${t.completed.length})`);
    const claims = t.proxy.sent.filter((m) => m.type === 'subscribe' && m.payload.query.includes('claimTasks('));
    expect(claims[0].payload.variables.input.limit).toBe(4);
    expect(maxActive).toBe(1);
    for (const id of t.ids) expect(await getTask(t.server, id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
  });

  test('stop() gives the prefetched tasks back at once: QUEUED, their attempt uncounted', async () => {
    const { handler, started, open } = gated();
    const t = await setup(4, handler, { concurrency: 1, prefetch: 3 });
    await t.worker.start();
    await waitFor(async () => (await t.server.store.countTasks({ status: ['RUNNING'] })) === 4, 'four tasks leased');
    await waitFor(() => started.length === 1, 'the first handler');
    const stopping = t.worker.stop({ timeoutMs: 10_000 });
    // Given back before the running handler is done.
    await waitFor(async () => (await t.server.store.countTasks({ status: ['QUEUED'] })) === 3, 'three tasks back in the queue');
    open();
    await stopping;
    expect(started).toEqual([t.ids[0]]);
    expect(t.completed).toEqual([t.ids[0]]);
    expect(t.failed).toEqual([]);
    for (const id of t.ids.slice(1)) expect(await getTask(t.server, id)).toMatchObject({ status: 'QUEUED', attempts: 0 });
    const kinds = (await t.server.store.eventsAfter(0, 1000)).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'RELEASED')).toHaveLength(3);
    // maxAttempts is 1: a worker that claims them now still gets their only attempt.
    const again = await t.server.store.claim({ workerId: 'w2', limit: 3 });
    expect(again.map((c) => c.task.attempts)).toEqual([1, 1, 1]);
  });

  test('a prefetched task cancelled while it waits is given back and ends CANCELLED, without running', async () => {
    const { handler, started, open } = gated();
    const t = await setup(2, handler, { concurrency: 1, prefetch: 1, leaseSeconds: 3 });
    await t.worker.start();
    await waitFor(() => started.length === 1, 'the first handler');
    const waitingId = t.ids.find((id) => id !== started[0])!;
    const r = await t.server.gql(`mutation($id: ID!) { cancelTask(id: $id) { status cancelRequested } }`, { id: waitingId });
    expect(r.data.cancelTask).toEqual({ status: 'RUNNING', cancelRequested: true });
    // The next heartbeat (every lease/3) says so; the worker gives it back, the server cancels it.
    await waitFor(async () => (await getTask(t.server, waitingId)).status === 'CANCELLED', 'the waiting task cancelled', 8000);
    open();
    await waitFor(() => t.completed.length === 1, 'the first completion');
    expect(started).toEqual([t.completed[0]]);
  });
});

describe('past the server limit of 1,000 per request', () => {
  test('claims at most 1,000 at once and renews more leases than that in several heartbeats', async () => {
    const server = await startServer();
    const proxy = await proxyTo(server.wsUrl, () => false);
    for (let k = 0; k < 2; k++) await enqueueMany(server, Array.from({ length: 600 }, (_, i) => ({ type: 'many', payload: { i } })));
    const { handler, started, open } = gated();
    const errors: Error[] = [];
    const worker = track(
      createWorker({ url: proxy.url, concurrency: 1200, waitSeconds: 1, leaseSeconds: 3, logger: quietLogger, handler: handler as never }),
    );
    worker.on('error', (e) => errors.push(e));
    let completed = 0;
    worker.on('completed', () => completed++);
    await worker.start();
    await waitFor(() => started.length === 1200, () => `1,200 handlers (have ${started.length})`);
    const heartbeats = () => proxy.sent.filter((m) => m.type === 'subscribe' && m.payload.query.includes('heartbeat('));
    const before = heartbeats().length;
    // The next heartbeat (every lease/3) renews all 1,200: a call of 1,000 and one of 200.
    await waitFor(() => heartbeats().length >= before + 2, 'a heartbeat of 1,200 leases', 5000);
    const sizes = heartbeats()
      .slice(before, before + 2)
      .map((m) => m.payload.variables.input.leases.length);
    expect(sizes.sort((a, b) => b - a)).toEqual([1000, 200]);
    const claims = proxy.sent.filter((m) => m.type === 'subscribe' && m.payload.query.includes('claimTasks('));
    expect(claims.map((m) => m.payload.variables.input.limit).slice(0, 2)).toEqual([1000, 200]);
    open();
    await waitFor(() => completed === 1200, () => `1,200 completions (have ${completed})`);
    expect(errors).toEqual([]);
  });
});
