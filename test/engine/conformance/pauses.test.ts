/**
 * Pausing a queue, or one type in it (issue 17): claims hand out nothing of what is
 * paused while enqueues go on; a resume hands it out again; each change is one
 * QUEUE_UPDATED on the outbox; a pause and a concurrency limit on the same type: the
 * pause wins. Run against every driver.
 */
import { describe, expect, it } from 'vitest';
import { T0, makeStore } from '../../helpers/drivers.js';

describe('pause and resume', () => {
  it('a paused queue accepts enqueues and hands out no claims until resumed', async () => {
    const { store, events } = await makeStore();
    const paused = await store.pauseQueue({ queue: 'media' });
    expect(paused).toEqual({ queue: 'media', type: null, paused: true, pausedAt: T0 });
    const { task } = await store.enqueue({ type: 'resize', queue: 'media', payload: {} });
    expect(task.status).toBe('QUEUED');
    await store.enqueue({ type: 'other', payload: {} }); // another queue is not affected
    expect(await store.claim({ workerId: 'w', queue: 'media' })).toEqual([]);
    expect((await store.claim({ workerId: 'w' })).map((c) => c.task.type)).toEqual(['other']);
    expect(await store.resumeQueue({ queue: 'media' })).toEqual({ queue: 'media', type: null, paused: false, pausedAt: null });
    expect((await store.claim({ workerId: 'w', queue: 'media' })).map((c) => c.task.id)).toEqual([task.id]);
    const updates = events.filter((e) => e.kind === 'QUEUE_UPDATED');
    expect(updates.map((e) => [e.queue, e.type])).toEqual([
      ['media', null],
      ['media', null],
    ]);
  });

  it('pausing twice, or resuming what is not paused, changes nothing and announces nothing', async () => {
    const { store, events } = await makeStore();
    await store.pauseQueue({ queue: 'q' });
    const again = await store.pauseQueue({ queue: 'q' });
    expect(again).toEqual({ queue: 'q', type: null, paused: true, pausedAt: T0 });
    await store.resumeQueue({ queue: 'q' });
    expect((await store.resumeQueue({ queue: 'q' })).paused).toBe(false);
    expect(events.filter((e) => e.kind === 'QUEUE_UPDATED')).toHaveLength(2);
    expect(await store.listPauses()).toEqual([]);
  });

  it('pausing one type leaves the others claimable, whatever the strategy; a pause wins over a limit', async () => {
    const { store } = await makeStore();
    await store.setConcurrencyLimit({ queue: 'default', type: 'heavy', limit: 5 });
    await store.pauseQueue({ queue: 'default', type: 'heavy' });
    for (let i = 0; i < 3; i++) {
      await store.enqueue({ type: 'heavy', payload: { i }, priority: 1 });
      await store.enqueue({ type: 'light', payload: { i }, priority: 2 });
    }
    for (const strategy of ['FIFO', 'LIFO', 'PRIORITY', 'WEIGHTED_RANDOM'] as const) {
      const claimed = await store.claim({ workerId: `w-${strategy}`, strategy, limit: 10 });
      expect(claimed.every((c) => c.task.type === 'light'), strategy).toBe(true);
    }
    expect(await store.countTasks({ status: ['QUEUED'], type: ['heavy'] })).toBe(3);
    // A worker that asks only for the paused type gets nothing.
    expect(await store.claim({ workerId: 'w', types: ['heavy'] })).toEqual([]);
    expect(await store.listPauses()).toEqual([{ queue: 'default', type: 'heavy', paused: true, pausedAt: T0 }]);
    await store.resumeQueue({ queue: 'default', type: 'heavy' });
    expect((await store.claim({ workerId: 'w', types: ['heavy'], limit: 10 })).length).toBe(3);
  });

  it('refuses a queue name that is not a string', async () => {
    const { store } = await makeStore();
    await expect(store.pauseQueue({ queue: '' })).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(store.pauseQueue({ queue: 5 as unknown as string })).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(await store.listPauses()).toEqual([]);
  });
});
