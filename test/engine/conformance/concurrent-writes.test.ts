/**
 * Conformance suite: this suite is the definition of a driver; it runs on every driver
 * through test/helpers/drivers.ts (TASKWIRE_TEST_DRIVER picks it).
 *
 * Writes issued together on one store (without awaiting each other): every write
 * succeeds or fails alone, outbox rows and events exist only for the writes that
 * committed, in order and without gaps, two claims never take the same task, and close()
 * loses nothing already accepted. (SQLite runs such writes as one group commit:
 * test/store/sqlite/group-commit.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { expectError, makeDatabase, makeStore } from '../../helpers/drivers.js';

describe('writes issued together', () => {
  it('a write that fails among writes issued with it is rolled back alone, with its outbox rows; the others commit', async () => {
    const { store, events } = await makeStore();
    const [a] = await store.enqueueMany([
      { type: 'a', payload: {} },
      { type: 'b', payload: {} },
    ]);
    const claimed = await store.claim({ workerId: 'w', limit: 2 });
    expect(claimed).toHaveLength(2);
    const before = events.length;
    const lastId = events[events.length - 1]!.id;
    const outcomes = await Promise.allSettled([
      store.complete({ taskId: claimed[0]!.task.id, leaseToken: claimed[0]!.leaseToken }),
      // Wrong token: LEASE_LOST, and nothing of it may remain.
      store.complete({ taskId: claimed[1]!.task.id, leaseToken: 'not-the-token' }),
      store.enqueue({ type: 'c', payload: {} }),
      // Invalid input fails inside the group too.
      store.appendLog({ taskId: a!.task.id, level: 'NOPE' as never, message: 'x' }),
      store.reportProgress({ taskId: claimed[1]!.task.id, leaseToken: claimed[1]!.leaseToken, progress: 0.5 }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect(((outcomes[1] as PromiseRejectedResult).reason as { code: string }).code).toBe('LEASE_LOST');
    expect(((outcomes[3] as PromiseRejectedResult).reason as { code: string }).code).toBe('VALIDATION');
    expect((await store.getTask(claimed[0]!.task.id))!.status).toBe('SUCCEEDED');
    const second = (await store.getTask(claimed[1]!.task.id))!;
    expect(second.status).toBe('RUNNING');
    expect(second.progress).toBe(0.5);
    expect((await store.listLogs(a!.task.id)).items).toHaveLength(0);
    // Events: exactly the committed writes', gapless. (Their order is the order the writes
    // committed in: issue order on SQLite, which ran them in one group; any on PostgreSQL.)
    const fresh = events.slice(before);
    expect(fresh.map((e) => e.kind).sort()).toEqual(['ENQUEUED', 'PROGRESS', 'SUCCEEDED']);
    expect(fresh.map((e) => e.id)).toEqual([lastId + 1, lastId + 2, lastId + 3]);
    const stored = await store.eventsAfter(lastId, 100);
    expect(stored.map((e) => e.id)).toEqual(fresh.map((e) => e.id));
  });

  it('two claims issued together never take the same task', async () => {
    const { store } = await makeStore();
    await store.enqueueMany(Array.from({ length: 10 }, (_, i) => ({ type: 'x', payload: { i } })));
    const groups = await Promise.all(Array.from({ length: 4 }, (_, w) => store.claim({ workerId: `w${w}`, limit: 3 })));
    const ids = groups.flat().map((c) => c.task.id);
    expect(ids).toHaveLength(10);
    expect(new Set(ids).size).toBe(10);
    // Every task is taken: three claims fill up and one gets the last (which one depends
    // on the driver: SQLite runs them in issue order, PostgreSQL side by side).
    expect(groups.map((g) => g.length).sort()).toEqual([1, 3, 3, 3]);
  });

  it('close() commits the writes already accepted', async () => {
    const database = await makeDatabase();
    const { store } = await database.open();
    const pending = [store.enqueue({ type: 'late', payload: { n: 1 } }), store.enqueue({ type: 'late', payload: { n: 2 } })];
    await store.close();
    const results = await Promise.all(pending);
    expect(results.every((r) => r.created)).toBe(true);
    const { store: again } = await database.open();
    expect(await again.countTasks({ type: ['late'] })).toBe(2);
    await expectError(store.enqueue({ type: 'after', payload: {} }), 'STORAGE');
  });
});
