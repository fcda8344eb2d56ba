/**
 * Editing a task no worker holds (issue 17): QUEUED, BLOCKED and FAILED tasks take a new
 * payload, priority, runAfter or maxAttempts, with an UPDATED event; a running or
 * succeeded task is refused; a producer edits only what it enqueued. Every driver.
 */
import { describe, expect, it } from 'vitest';
import { T0, enqueueAndClaim, expectError, makeStore } from '../../helpers/drivers.js';

describe('update', () => {
  it('changes the fields given and keeps the others, with an UPDATED event; the claim order follows the new priority', async () => {
    const { store, clock, taskKinds } = await makeStore();
    const { task: a } = await store.enqueue({ type: 'job', payload: { v: 1, format: 'png' }, priority: 5 });
    const { task: b } = await store.enqueue({ type: 'job', payload: {}, priority: 3 });
    clock.advance(10);
    const edited = await store.update(a.id, { payload: { v: 2, format: 'webp' }, priority: 1 });
    expect(edited).toMatchObject({ id: a.id, status: 'QUEUED', payload: { v: 2, format: 'webp' }, format: 'webp', priority: 1, maxAttempts: a.maxAttempts, updatedAt: T0 + 10 });
    expect(taskKinds().slice(-1)).toEqual(['UPDATED']);
    expect(await store.countTasks({ format: ['webp'] })).toBe(1);
    const [first] = await store.claim({ workerId: 'w', strategy: 'PRIORITY' });
    expect(first!.task.id).toBe(a.id);
    expect((await store.getTask(b.id))?.priority).toBe(3);
  });

  it('runAfter moves a QUEUED task out; a FAILED task gets more attempts and can then be retried', async () => {
    const { store } = await makeStore();
    const { task } = await store.enqueue({ type: 'job', payload: {} });
    await store.update(task.id, { runAfter: T0 + 60_000 });
    expect(await store.claim({ workerId: 'w' })).toEqual([]);
    await store.update(task.id, { runAfter: T0 });
    const [c] = await store.claim({ workerId: 'w' });
    await store.fail({ taskId: task.id, leaseToken: c!.leaseToken, error: 'boom', retryable: false });
    const failed = await store.update(task.id, { maxAttempts: 9 });
    expect(failed).toMatchObject({ status: 'FAILED', maxAttempts: 9 });
    expect((await store.retry(task.id)).status).toBe('QUEUED');
  });

  it('refuses a RUNNING or SUCCEEDED task (INVALID_STATE), an unknown one (NOT_FOUND), and an empty or bad edit (VALIDATION), changing nothing', async () => {
    const { store, events } = await makeStore();
    const c = await enqueueAndClaim(store, {});
    await expectError(store.update(c.task.id, { priority: 1 }), 'INVALID_STATE');
    await store.complete({ taskId: c.task.id, leaseToken: c.leaseToken });
    await expectError(store.update(c.task.id, { priority: 1 }), 'INVALID_STATE');
    await expectError(store.update(999_999, { priority: 1 }), 'NOT_FOUND');
    const { task } = await store.enqueue({ type: 'job', payload: { keep: true } });
    const before = events.length;
    await expectError(store.update(task.id, {}), 'VALIDATION');
    await expectError(store.update(task.id, { payload: [1, 2] as unknown as object }), 'VALIDATION');
    await expectError(store.update(task.id, { maxAttempts: 0 }), 'VALIDATION');
    await expectError(store.update(task.id, { runAfter: Number.NaN }), 'VALIDATION');
    expect(events.length).toBe(before);
    expect((await store.getTask(task.id))?.payload).toEqual({ keep: true });
  });

  it('a producer edits only what it enqueued', async () => {
    const { store } = await makeStore();
    const { task } = await store.enqueue({ type: 'job', payload: {}, createdBy: 'tok-a' });
    await expectError(store.update(task.id, { priority: 1 }, 'tok-b'), 'FORBIDDEN');
    expect((await store.update(task.id, { priority: 1 }, 'tok-a')).priority).toBe(1);
  });

  it('retry with a payload runs the task again with that payload, in one REQUEUED change', async () => {
    const { store, taskKinds } = await makeStore();
    const { task } = await store.enqueue({ type: 'job', payload: { url: 'bad' }, maxAttempts: 1 });
    const [c] = await store.claim({ workerId: 'w' });
    await store.fail({ taskId: task.id, leaseToken: c!.leaseToken, error: 'bad url' });
    const retried = await store.retry(task.id, { payload: { url: 'good', format: 'png' } });
    expect(retried).toMatchObject({ status: 'QUEUED', attempts: 0, payload: { url: 'good', format: 'png' }, format: 'png' });
    expect(taskKinds().slice(-1)).toEqual(['REQUEUED']);
    await expectError(store.retry(task.id, { payload: { url: 'again' } }), 'INVALID_STATE');
    expect((await store.getTask(task.id))?.payload).toEqual({ url: 'good', format: 'png' });
  });
});

