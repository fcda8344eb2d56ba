/**
 * Guarded writes: a decision made on a stale read changes nothing. SQLite's single writer
 * never lets a read go stale inside one transaction, so these tests hand the engine the
 * stale snapshot directly, as a second writer on another database would leave it: an
 * attempt that has already ended, a task that was claimed again since.
 */
import { describe, expect, it } from 'vitest';
import type { Task } from '../../src/store/index.js';
import { makeStore } from '../helpers/store.js';

type EndAttempt = (task: Task, error: string, retryable: boolean, retryAfter: number | null, now: number, cause: 'TIMED_OUT' | 'LEASE_EXPIRED' | null) => Task | null;

describe('ending an attempt is guarded by the attempt it read', () => {
  it('a stale snapshot of attempt 1 cannot end attempt 2, and records no event', async () => {
    const { store, clock, events } = makeStore({ backoffBaseMs: 0 });
    const { task } = await store.enqueue({ type: 't', payload: {}, maxAttempts: 5 });
    const [first] = await store.claim({ workerId: 'w1' });
    const snapshot = (await store.getTask(task.id))!; // RUNNING, attempt 1
    await store.fail({ taskId: task.id, leaseToken: first!.leaseToken, error: 'boom', retryAfterSeconds: 0 });
    const [second] = await store.claim({ workerId: 'w2' });
    expect(second!.task.attempts).toBe(2);
    const before = events.length;

    // What a sweeper that read attempt 1 would write now, inside a transaction of its own.
    const endAttempt = (store as unknown as { endAttempt: EndAttempt }).endAttempt.bind(store);
    const write = (store as unknown as { write<T>(fn: () => T): T }).write.bind(store);
    const ended = write(() => endAttempt(snapshot, 'lease expired', true, null, clock.now(), 'LEASE_EXPIRED'));

    expect(ended).toBeNull();
    const now = (await store.getTask(task.id))!;
    expect(now).toMatchObject({ status: 'RUNNING', attempts: 2, lockedBy: 'w2' });
    expect(events.length).toBe(before);
    // The holder of attempt 2 still completes it.
    await store.complete({ taskId: task.id, leaseToken: second!.leaseToken, result: { ok: true } });
    expect((await store.getTask(task.id))!.status).toBe('SUCCEEDED');
  });

  it('the snapshot of the attempt that is running ends it', async () => {
    const { store, clock } = makeStore();
    const { task } = await store.enqueue({ type: 't', payload: {}, maxAttempts: 1 });
    await store.claim({ workerId: 'w1' });
    const snapshot = (await store.getTask(task.id))!;
    const endAttempt = (store as unknown as { endAttempt: EndAttempt }).endAttempt.bind(store);
    const write = (store as unknown as { write<T>(fn: () => T): T }).write.bind(store);
    const ended = write(() => endAttempt(snapshot, 'timed out', true, null, clock.now(), 'TIMED_OUT'));
    expect(ended).toMatchObject({ id: task.id, status: 'FAILED', errorMessage: 'timed out' });
  });
});
