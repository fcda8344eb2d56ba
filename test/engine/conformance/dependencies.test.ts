/**
 * Conformance suite: this suite is the definition of a driver; it runs on every driver
 * through test/helpers/drivers.ts (TASKWIRE_TEST_DRIVER picks it).
 *
 * Dependencies: BLOCKED until every dependency SUCCEEDED, the cascade of a failure or a
 * cancel, and the edges both ways.
 */
import { describe, expect, it } from 'vitest';
import type { TaskStore } from '../../../src/store/index.js';
import { expectError, makeStore } from '../../helpers/drivers.js';

/** Claims the given task (each test gives its tasks unique types) and completes or fails it. */
async function run(store: TaskStore, id: number, outcome: 'ok' | 'fail' = 'ok') {
  const task = await store.getTask(id);
  const claimed = await store.claim({ workerId: 'w', types: [task!.type], limit: 50, strategy: 'FIFO' });
  const mine = claimed.find((c) => c.task.id === id);
  expect(mine, `task ${id} should be claimable`).toBeDefined();
  expect(claimed).toHaveLength(1);
  if (outcome === 'ok') return store.complete({ taskId: id, leaseToken: mine!.leaseToken });
  return store.fail({ taskId: id, leaseToken: mine!.leaseToken, error: 'broken', retryable: false });
}

const status = async (store: TaskStore, id: number) => (await store.getTask(id))!.status;

describe('dependencies', () => {
  it('a task stays BLOCKED until its dependency succeeds, then is QUEUED with an UNBLOCKED event', async () => {
    const { store, events } = await makeStore();
    const { task: parent } = await store.enqueue({ type: 'parent', payload: {} });
    const { task: child } = await store.enqueue({ type: 'child', payload: {}, dependsOn: [parent.id] });
    expect(child.status).toBe('BLOCKED');
    expect(await store.claim({ workerId: 'w', types: ['child'] })).toEqual([]);

    await run(store, parent.id);
    expect(await status(store, child.id)).toBe('QUEUED');
    const kinds = events.filter((e) => e.kind !== 'LOG_ADDED' && e.kind !== 'WORKER_UPDATED').map((e) => `${e.kind}:${e.taskId}`);
    expect(kinds.slice(-2)).toEqual([`SUCCEEDED:${parent.id}`, `UNBLOCKED:${child.id}`]);
    expect(events.at(-1)).toMatchObject({ kind: 'UNBLOCKED', status: 'QUEUED', taskId: child.id });
    expect((await store.claim({ workerId: 'w', types: ['child'] })).map((c) => c.task.id)).toEqual([child.id]);
  });

  it('a task whose dependencies all succeeded already is QUEUED at enqueue', async () => {
    const { store } = await makeStore();
    const { task: parent } = await store.enqueue({ type: 'parent', payload: {} });
    await run(store, parent.id);
    const { task } = await store.enqueue({ type: 'child', payload: {}, dependsOn: [parent.id] });
    expect(task.status).toBe('QUEUED');
  });

  it('fan-in: waits for every dependency', async () => {
    const { store } = await makeStore();
    const a = (await store.enqueue({ type: 'a', payload: {} })).task.id;
    const b = (await store.enqueue({ type: 'b', payload: {} })).task.id;
    const c = (await store.enqueue({ type: 'c', payload: {} })).task.id;
    const join = (await store.enqueue({ type: 'join', payload: {}, dependsOn: [a, b, c] })).task.id;
    await run(store, b);
    expect(await status(store, join)).toBe('BLOCKED');
    await run(store, a);
    expect(await status(store, join)).toBe('BLOCKED');
    await run(store, c);
    expect(await status(store, join)).toBe('QUEUED');
  });

  it('fan-out: one success unblocks every dependent', async () => {
    const { store } = await makeStore();
    const root = (await store.enqueue({ type: 'root', payload: {} })).task.id;
    const kids = await store.enqueueMany([1, 2, 3].map((i) => ({ type: `kid${i}`, payload: {}, dependsOn: [root] })));
    await run(store, root);
    for (const k of kids) expect(await status(store, k.task.id)).toBe('QUEUED');
  });

  it('chain: each link unblocks only the next', async () => {
    const { store } = await makeStore();
    const a = (await store.enqueue({ type: 'a', payload: {} })).task.id;
    const b = (await store.enqueue({ type: 'b', payload: {}, dependsOn: [a] })).task.id;
    const c = (await store.enqueue({ type: 'c', payload: {}, dependsOn: [b] })).task.id;
    await run(store, a);
    expect([await status(store, b), await status(store, c)]).toEqual(['QUEUED', 'BLOCKED']);
    await run(store, b);
    expect(await status(store, c)).toBe('QUEUED');
  });

  it('a failure cancels dependents transitively, with the reason and a log row', async () => {
    const { store, events } = await makeStore();
    const a = (await store.enqueue({ type: 'a', payload: {} })).task.id;
    const b = (await store.enqueue({ type: 'b', payload: {}, dependsOn: [a] })).task.id;
    const c = (await store.enqueue({ type: 'c', payload: {}, dependsOn: [b] })).task.id;
    const other = (await store.enqueue({ type: 'other', payload: {} })).task.id;
    await run(store, a, 'fail');

    const tb = (await store.getTask(b))!;
    const tc = (await store.getTask(c))!;
    expect(tb.status).toBe('CANCELLED');
    expect(tc.status).toBe('CANCELLED');
    expect(tb.finishedAt).not.toBeNull();
    expect(tb.errorMessage).toContain(`dependency ${a}`);
    expect(tb.errorMessage).toContain('FAILED');
    expect(tc.errorMessage).toContain(`dependency ${b}`);
    expect(tc.errorMessage).toContain(`dependency ${a}`);
    for (const id of [b, c]) {
      const logs = (await store.listLogs(id)).items.map((i) => i.node);
      expect(logs).toHaveLength(1);
      expect(logs[0]).toMatchObject({ level: 'WARN', taskId: id });
      expect(logs[0]!.message).toContain(`dependency ${a}`);
    }
    const cancelled = events.filter((e) => e.kind === 'CANCELLED').map((e) => e.taskId);
    expect(cancelled).toEqual([b, c]);
    expect(await status(store, other)).toBe('QUEUED');
  });

  it('cancelling a task cancels its dependents transitively', async () => {
    const { store } = await makeStore();
    const a = (await store.enqueue({ type: 'a', payload: {} })).task.id;
    const b = (await store.enqueue({ type: 'b', payload: {}, dependsOn: [a] })).task.id;
    const c = (await store.enqueue({ type: 'c', payload: {}, dependsOn: [b] })).task.id;
    await store.cancel(a, 'changed my mind');
    expect(await status(store, b)).toBe('CANCELLED');
    expect(await status(store, c)).toBe('CANCELLED');
    expect((await store.getTask(b))!.errorMessage).toContain(`dependency ${a} was cancelled`);
    expect((await store.listLogs(c)).items).toHaveLength(1);
  });

  it('a running task cancelled and then failed cancels its dependents', async () => {
    const { store } = await makeStore();
    const a = (await store.enqueue({ type: 'a', payload: {} })).task.id;
    const b = (await store.enqueue({ type: 'b', payload: {}, dependsOn: [a] })).task.id;
    const [c] = await store.claim({ workerId: 'w', types: ['a'] });
    await store.cancel(a);
    await store.fail({ taskId: a, leaseToken: c!.leaseToken, error: 'acknowledged' });
    expect(await status(store, a)).toBe('CANCELLED');
    expect(await status(store, b)).toBe('CANCELLED');
  });

  it('a retryable failure does not cancel dependents; exhaustion does', async () => {
    const { store, clock } = await makeStore();
    const a = (await store.enqueue({ type: 'a', payload: {}, maxAttempts: 2 })).task.id;
    const b = (await store.enqueue({ type: 'b', payload: {}, dependsOn: [a] })).task.id;
    let [c] = await store.claim({ workerId: 'w', types: ['a'] });
    const t = await store.fail({ taskId: a, leaseToken: c!.leaseToken, error: 'flaky' });
    expect(t.status).toBe('QUEUED');
    expect(await status(store, b)).toBe('BLOCKED');
    clock.t = t.runAfter;
    [c] = await store.claim({ workerId: 'w', types: ['a'] });
    await store.fail({ taskId: a, leaseToken: c!.leaseToken, error: 'flaky again' });
    expect(await status(store, b)).toBe('CANCELLED');
  });

  it('a task enqueued after its dependency failed starts CANCELLED', async () => {
    const { store, taskKinds } = await makeStore();
    const a = (await store.enqueue({ type: 'a', payload: {} })).task.id;
    await run(store, a, 'fail');
    const { task } = await store.enqueue({ type: 'b', payload: {}, dependsOn: [a] });
    expect(task.status).toBe('CANCELLED');
    expect(task.errorMessage).toContain(`dependency ${a}`);
    expect(taskKinds().slice(-2)).toEqual(['ENQUEUED', 'CANCELLED']);
    expect((await store.listLogs(task.id)).items).toHaveLength(1);
  });

  it('an unknown dependency id is a VALIDATION error naming it', async () => {
    const { store } = await makeStore();
    const a = (await store.enqueue({ type: 'a', payload: {} })).task.id;
    const err = await expectError(store.enqueue({ type: 'b', payload: {}, dependsOn: [a, 9999] }), 'VALIDATION');
    expect(err.message).toContain('9999');
    expect(await store.countTasks()).toBe(1);
    await expectError(store.enqueue({ type: 'b', payload: {}, dependsOn: [1.5] }), 'VALIDATION');
    await expectError(store.enqueue({ type: 'b', payload: {}, dependsOn: 'x' as never }), 'VALIDATION');
  });

  it('can depend on a task enqueued earlier in the same batch', async () => {
    const { store } = await makeStore();
    const [a, b] = await store.enqueueMany([
      { type: 'a', payload: {} },
      { type: 'b', payload: {}, dependsOn: [1] },
    ]);
    expect(a!.task.id).toBe(1);
    expect(b!.task.status).toBe('BLOCKED');
  });

  it('dependencyIds and dependentIds answer both ways', async () => {
    const { store } = await makeStore();
    const a = (await store.enqueue({ type: 'a', payload: {} })).task.id;
    const b = (await store.enqueue({ type: 'b', payload: {} })).task.id;
    const c = (await store.enqueue({ type: 'c', payload: {}, dependsOn: [b, a, a] })).task.id;
    const d = (await store.enqueue({ type: 'd', payload: {}, dependsOn: [a] })).task.id;
    expect(await store.dependencyIds([c, d, a, 999])).toEqual([[a, b], [a], [], []]);
    expect(await store.dependentIds([a, b, c])).toEqual([[c, d], [c], []]);
  });

  it('retry of a task cancelled by a failed dependency is refused until the dependency is retried', async () => {
    const { store } = await makeStore();
    const a = (await store.enqueue({ type: 'a', payload: {} })).task.id;
    const b = (await store.enqueue({ type: 'b', payload: {}, dependsOn: [a] })).task.id;
    await run(store, a, 'fail');
    await expectError(store.retry(b), 'INVALID_STATE');
    expect(await status(store, b)).toBe('CANCELLED');
    await store.retry(a);
    // The dependency is pending again, so the dependent goes back to BLOCKED, not QUEUED.
    expect((await store.retry(b)).status).toBe('BLOCKED');
    await run(store, a);
    expect(await status(store, b)).toBe('QUEUED');
  });
});
