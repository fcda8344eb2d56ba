/**
 * Bulk actions by filter (issue 17): cancel, retry and delete every task a filter
 * matches, in bounded calls that resume after the last id; each task goes through the
 * single action's rules (its events included); what is not in an acted-on status, or
 * changed meanwhile, is left alone. Every driver.
 */
import { describe, expect, it } from 'vitest';
import { makeStore } from '../../helpers/drivers.js';

describe('bulk', () => {
  it('cancels what the filter matches and nothing else, one CANCELLED event each; a running one is asked to stop', async () => {
    const { store, taskKinds } = await makeStore();
    for (let i = 0; i < 3; i++) await store.enqueue({ type: 'spam', payload: { i } });
    const { task: keep } = await store.enqueue({ type: 'ham', payload: {} });
    const [running] = await store.claim({ workerId: 'w', types: ['spam'] });
    const before = taskKinds().length;
    const r = await store.bulk('cancel', { type: ['spam'] });
    expect(r).toEqual({ changed: 3, skipped: 0, hasMore: false, lastId: expect.any(Number) });
    expect(await store.countTasks({ type: ['spam'], status: ['CANCELLED'] })).toBe(2);
    expect((await store.getTask(running!.task.id))?.cancelRequested).toBe(true);
    expect((await store.getTask(keep.id))?.status).toBe('QUEUED');
    expect(taskKinds().slice(before).sort()).toEqual(['CANCELLED', 'CANCELLED', 'CANCEL_REQUESTED']);
    // Again: the running one was asked already; nothing else matches.
    expect(await store.bulk('cancel', { type: ['spam'] })).toMatchObject({ changed: 0, skipped: 1, hasMore: false });
  });

  it('works in bounded calls that resume after the last id, and retries failed tasks', async () => {
    const { store } = await makeStore();
    for (let i = 0; i < 5; i++) {
      const { task } = await store.enqueue({ type: 'job', payload: { i }, maxAttempts: 1 });
      const [c] = await store.claim({ workerId: 'w' });
      await store.fail({ taskId: task.id, leaseToken: c!.leaseToken, error: 'boom' });
    }
    const first = await store.bulk('retry', { status: ['FAILED'] }, { limit: 2 });
    expect(first).toMatchObject({ changed: 2, hasMore: true });
    const second = await store.bulk('retry', { status: ['FAILED'] }, { limit: 2, after: first.lastId });
    expect(second).toMatchObject({ changed: 2, hasMore: true });
    const third = await store.bulk('retry', { status: ['FAILED'] }, { limit: 2, after: second.lastId });
    expect(third).toMatchObject({ changed: 1, hasMore: false });
    expect(await store.countTasks({ status: ['QUEUED'] })).toBe(5);
    expect(await store.countTasks({ status: ['FAILED'] })).toBe(0);
  });

  it('deletes finished tasks only, whatever the filter asks, and a status outside the action acts on nothing', async () => {
    const { store } = await makeStore();
    const { task: done } = await store.enqueue({ type: 'job', payload: {} });
    const [c] = await store.claim({ workerId: 'w' });
    await store.complete({ taskId: done.id, leaseToken: c!.leaseToken });
    const { task: waiting } = await store.enqueue({ type: 'job', payload: {} });
    expect(await store.bulk('delete', { status: ['QUEUED'] })).toEqual({ changed: 0, skipped: 0, hasMore: false, lastId: null });
    expect(await store.bulk('delete', { type: ['job'] })).toMatchObject({ changed: 1, hasMore: false });
    expect(await store.getTask(done.id)).toBeNull();
    expect((await store.getTask(waiting.id))?.status).toBe('QUEUED');
  });

  it('refuses an unknown action, a bad limit or a bad filter, acting on nothing', async () => {
    const { store } = await makeStore();
    await store.enqueue({ type: 'job', payload: {} });
    await expect(store.bulk('explode' as never, null)).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(store.bulk('cancel', null, { limit: 0 })).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(store.bulk('cancel', { status: ['NOPE' as never] })).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(await store.countTasks({ status: ['QUEUED'] })).toBe(1);
  });
});
