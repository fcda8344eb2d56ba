/**
 * Enqueue policies on an idempotency key (issue 17): RETURN_EXISTING (the default),
 * REPLACE (a still-queued task takes the new payload) and DEBOUNCE (and moves out, up to
 * a cap after the first enqueue). A task that started is returned as it is. Every driver.
 */
import { describe, expect, it } from 'vitest';
import { T0, expectError, makeStore } from '../../helpers/drivers.js';

describe('onDuplicate', () => {
  it('RETURN_EXISTING (the default) returns the task unchanged', async () => {
    const { store } = await makeStore();
    const first = await store.enqueue({ type: 'job', payload: { v: 1 }, idempotencyKey: 'k' });
    const again = await store.enqueue({ type: 'job', payload: { v: 2 }, idempotencyKey: 'k' });
    expect(again).toEqual({ created: false, task: first.task });
  });

  it('REPLACE gives a queued task the new payload (and priority only if given), with an UPDATED event', async () => {
    const { store, clock, taskKinds } = await makeStore();
    const first = await store.enqueue({ type: 'job', payload: { v: 1 }, priority: 5, idempotencyKey: 'k' });
    clock.advance(10);
    const r = await store.enqueue({ type: 'job', payload: { v: 2 }, idempotencyKey: 'k', onDuplicate: 'REPLACE' });
    expect(r.created).toBe(false);
    expect(r.task).toMatchObject({ id: first.task.id, payload: { v: 2 }, priority: 5, updatedAt: T0 + 10 });
    expect(taskKinds()).toEqual(['ENQUEUED', 'UPDATED']);
    const withPriority = await store.enqueue({ type: 'job', payload: { v: 3 }, priority: 1, idempotencyKey: 'k', onDuplicate: 'REPLACE' });
    expect(withPriority.task).toMatchObject({ payload: { v: 3 }, priority: 1 });
    expect(await store.countTasks({})).toBe(1);
  });

  it('DEBOUNCE moves the task out with each enqueue, but no further than maxDelaySeconds after the first', async () => {
    const { store, clock } = await makeStore();
    await store.enqueue({ type: 'job', payload: { n: 1 }, idempotencyKey: 'd', onDuplicate: 'DEBOUNCE', delaySeconds: 10, maxDelaySeconds: 25 });
    clock.advance(8_000);
    const second = await store.enqueue({ type: 'job', payload: { n: 2 }, idempotencyKey: 'd', onDuplicate: 'DEBOUNCE', delaySeconds: 10, maxDelaySeconds: 25 });
    expect(second.task).toMatchObject({ payload: { n: 2 }, runAfter: T0 + 18_000 });
    clock.advance(8_000);
    const third = await store.enqueue({ type: 'job', payload: { n: 3 }, idempotencyKey: 'd', onDuplicate: 'DEBOUNCE', delaySeconds: 10, maxDelaySeconds: 25 });
    expect(third.task.runAfter).toBe(T0 + 25_000); // capped: 16 s + 10 s would pass 25 s after the first
    expect(await store.claim({ workerId: 'w' })).toEqual([]);
    clock.advance(9_000);
    const [c] = await store.claim({ workerId: 'w' });
    expect(c!.task.payload).toEqual({ n: 3 });
  });

  it('a task that started is returned as it is', async () => {
    const { store } = await makeStore();
    await store.enqueue({ type: 'job', payload: { v: 1 }, idempotencyKey: 'k' });
    const [c] = await store.claim({ workerId: 'w' });
    const r = await store.enqueue({ type: 'job', payload: { v: 2 }, idempotencyKey: 'k', onDuplicate: 'REPLACE' });
    expect(r).toMatchObject({ created: false, task: { id: c!.task.id, status: 'RUNNING', payload: { v: 1 } } });
  });

  it('refuses an unknown policy, or a policy without a key', async () => {
    const { store } = await makeStore();
    await expectError(store.enqueue({ type: 'job', payload: {}, idempotencyKey: 'k', onDuplicate: 'MERGE' as never }), 'VALIDATION');
    await expectError(store.enqueue({ type: 'job', payload: {}, onDuplicate: 'REPLACE' }), 'VALIDATION');
    expect(await store.countTasks({})).toBe(0);
  });
});
