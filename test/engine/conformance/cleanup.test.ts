/**
 * Conformance suite: this suite is the definition of a driver; it runs on every driver
 * through test/helpers/drivers.ts (TASKWIRE_TEST_DRIVER picks it).
 *
 * cleanup(): finished tasks older than the retention go, with their logs, dependency
 * edges and events; everything else stays, and ids are never handed out again.
 */
import { describe, expect, it } from 'vitest';
import { T0, expectError, makeDatabase, makeStore } from '../../helpers/drivers.js';

const DAY = 86_400_000;

/** A store on a database that outlives it (SQLite: a file, not ':memory:'). */
async function durableStore(seed = 1) {
  return (await makeDatabase()).open({ seed });
}

describe('cleanup', () => {
  it('removes old finished tasks with their logs, dependency rows and events; keeps recent and unfinished ones', async () => {
    const { store, clock, probe } = await durableStore();
    // Day 0: an old success with a log and a dependent, an old failure, an old cancel,
    // and old tasks that never finished.
    const [oldOk, oldFail, oldCancel, oldQueued, oldRunning] = (
      await store.enqueueMany([
        { type: 'ok', payload: {}, idempotencyKey: 'old-ok' },
        { type: 'fail', payload: {} },
        { type: 'cancel', payload: {} },
        { type: 'queued', payload: {}, delaySeconds: 30 * 86_400 },
        { type: 'running', payload: {} },
      ])
    ).map((r) => r.task.id) as [number, number, number, number, number];
    const blocked = (await store.enqueue({ type: 'blocked', payload: {}, dependsOn: [oldOk, oldRunning] })).task.id;
    const okClaim = (await store.claim({ workerId: 'w', types: ['ok'] }))[0]!;
    await store.appendLog({ taskId: oldOk, level: 'INFO', message: 'working', leaseToken: okClaim.leaseToken });
    await store.complete({ taskId: oldOk, leaseToken: okClaim.leaseToken });
    const failClaim = (await store.claim({ workerId: 'w', types: ['fail'] }))[0]!;
    await store.fail({ taskId: oldFail, leaseToken: failClaim.leaseToken, error: 'x', retryable: false });
    await store.cancel(oldCancel);
    await store.claim({ workerId: 'w', types: ['running'], leaseSeconds: 86_400 });
    // Day 9: a recent success.
    clock.advance(9 * DAY);
    const recent = (await store.enqueue({ type: 'recent', payload: {}, idempotencyKey: 'recent' })).task.id;
    const rc = (await store.claim({ workerId: 'w', types: ['recent'] }))[0]!;
    await store.complete({ taskId: recent, leaseToken: rc.leaseToken });
    const eventsBefore = await store.eventsAfter(0, 10_000);
    const cutoff = T0 + 9 * DAY - 7 * DAY;
    const oldEvents = eventsBefore.filter((e) => e.at < cutoff);

    // Until cleanup, the old idempotency key still deduplicates.
    expect((await store.enqueue({ type: 'ok', payload: {}, idempotencyKey: 'old-ok' })).created).toBe(false);

    const result = await store.cleanup(7 * DAY);
    expect(result).toEqual({ tasks: 3, logs: 1, events: oldEvents.length });
    expect(await store.getTasks([oldOk, oldFail, oldCancel])).toEqual([null, null, null]);
    for (const id of [oldQueued, oldRunning, blocked, recent]) expect(await store.getTask(id)).not.toBeNull();
    expect(await probe.logCount(oldOk)).toBe(0);
    // The edge to the removed task is gone; the one to the unfinished task stays.
    expect(await store.dependencyIds([blocked])).toEqual([[oldRunning]]);
    expect((await store.getTask(blocked))!.status).toBe('BLOCKED');
    // Events older than the cutoff are gone; later ones stay.
    const after = await store.eventsAfter(0, 10_000);
    expect(after).toEqual(eventsBefore.filter((e) => e.at >= cutoff));
    expect(after.length).toBeGreaterThan(0);
    // After cleanup, the old key is free again; the recent one still deduplicates.
    expect((await store.enqueue({ type: 'ok', payload: {}, idempotencyKey: 'old-ok' })).created).toBe(true);
    expect((await store.enqueue({ type: 'recent', payload: {}, idempotencyKey: 'recent' })).created).toBe(false);
    // Ids are never handed out again.
    const { task } = await store.enqueue({ type: 'new', payload: {} });
    expect(task.id).toBeGreaterThan(recent);
    expect(await store.maintenance.integrityCheck()).toEqual(['ok']);
    expect(await probe.danglingReferences()).toEqual([]);
  });

  it('removes nothing when nothing is old enough', async () => {
    const { store } = await durableStore();
    const { task } = await store.enqueue({ type: 'x', payload: {} });
    await store.cancel(task.id);
    expect(await store.cleanup(DAY)).toEqual({ tasks: 0, logs: 0, events: 0 });
    expect(await store.getTask(task.id)).not.toBeNull();
  });

  it('works through more rows than one batch', async () => {
    const { store, clock } = await makeStore();
    const many = await store.enqueueMany(Array.from({ length: 2500 }, () => ({ type: 'x', payload: {} })));
    for (let i = 0; i < many.length; i += 500) {
      const claimed = await store.claim({ workerId: 'w', limit: 500, strategy: 'FIFO' });
      await store.completeMany(claimed.map((c) => ({ taskId: c.task.id, leaseToken: c.leaseToken })));
    }
    clock.advance(2 * DAY);
    expect((await store.cleanup(DAY)).tasks).toBe(2500);
    expect(await store.countTasks()).toBe(0);
  });

  it('rejects a negative or non-finite age', async () => {
    const { store } = await makeStore();
    await expectError(store.cleanup(-1), 'VALIDATION');
    await expectError(store.cleanup(Number.NaN), 'VALIDATION');
  });
});
