/**
 * The runner sends outcomes in sets: the completions (and the failures) of one claimed
 * batch go out as one completeTasks (one failTasks), watched on the socket by a proxy.
 * A batch the server refuses because of one lost lease still completes the others.
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
