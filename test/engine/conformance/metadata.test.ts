/**
 * Task metadata (issue 16): the lease holder sets or merges it, a METADATA event carries
 * it, it is bounded in size, only the current lease may change it, and it survives a
 * retry. Every driver.
 */
import { describe, expect, it } from 'vitest';
import { expectError, makeStore } from '../../helpers/drivers.js';

const WRONG = '00000000-0000-4000-8000-000000000000';

describe('updateMetadata', () => {
  it('merges (the default) and sets, with a METADATA event each, the task carrying it', async () => {
    const { store, events } = await makeStore();
    const { task } = await store.enqueue({ type: 'job', payload: {}, maxAttempts: 2 });
    const [c] = await store.claim({ workerId: 'w' });
    const ref = { taskId: task.id, leaseToken: c!.leaseToken };
    expect((await store.updateMetadata({ ...ref, metadata: { step: 'resize', stats: { done: 1 } } })).metadata).toEqual({ step: 'resize', stats: { done: 1 } });
    expect((await store.updateMetadata({ ...ref, metadata: { stats: { total: 4 }, step: null } })).metadata).toEqual({ stats: { done: 1, total: 4 } });
    expect((await store.updateMetadata({ ...ref, metadata: { only: true }, mode: 'SET' })).metadata).toEqual({ only: true });
    expect(events.filter((e) => e.kind === 'METADATA')).toHaveLength(3);
    expect((await store.getTask(task.id))?.metadata).toEqual({ only: true });
    // Kept across attempts: a retry starts with what the last attempt left.
    await store.fail({ ...ref, error: 'again' });
    expect((await store.getTask(task.id))?.metadata).toEqual({ only: true });
  });

  it('only the current lease may change it; a bad or oversized update changes nothing', async () => {
    const { store, events } = await makeStore();
    const { task } = await store.enqueue({ type: 'job', payload: {} });
    const [c] = await store.claim({ workerId: 'w' });
    const ref = { taskId: task.id, leaseToken: c!.leaseToken };
    await store.updateMetadata({ ...ref, metadata: { v: 1 } });
    const before = events.length;
    await expectError(store.updateMetadata({ taskId: task.id, leaseToken: WRONG, metadata: { v: 2 } }), 'LEASE_LOST');
    await expectError(store.updateMetadata({ ...ref, metadata: [1] }), 'VALIDATION');
    await expectError(store.updateMetadata({ ...ref, metadata: { v: 3 }, mode: 'PATCH' as never }), 'VALIDATION');
    // Each part fits, the merge does not.
    await store.updateMetadata({ ...ref, metadata: { a: 'x'.repeat(40_000) } });
    await expectError(store.updateMetadata({ ...ref, metadata: { b: 'y'.repeat(40_000) } }), 'VALIDATION');
    expect(events.length).toBe(before + 1);
    expect(Object.keys((await store.getTask(task.id))!.metadata!)).toEqual(['v', 'a']);
    await store.complete(ref);
    await expectError(store.updateMetadata({ ...ref, metadata: { late: true } }), 'LEASE_LOST');
  });
});
