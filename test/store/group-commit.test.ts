/**
 * Group commit: the hot writes (enqueue, claim, heartbeat, progress, complete, fail,
 * cancel, retry, logs) issued in the same turn of the event loop share one transaction,
 * each in its own savepoint. These tests hold the promises that come with it: one commit
 * for the group, every write succeeding or failing alone, outbox rows and events only for
 * the writes that committed, in order and without gaps, and nothing accepted lost at close.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteTaskStore } from '../../src/store/index.js';
import { expectError, makeStore, tempDir } from '../helpers/store.js';

function statements() {
  const seen: string[] = [];
  return { seen, trace: (sql: string) => seen.push(sql.trim().split(/\s+/).slice(0, 2).join(' ')) };
}

describe('group commit', () => {
  it('writes issued together share one BEGIN IMMEDIATE ... COMMIT, each in a savepoint', async () => {
    const t = statements();
    const { store } = makeStore({ trace: t.trace });
    t.seen.length = 0;
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => store.enqueue({ type: `t${i}`, payload: { i } })));
    expect(results.map((r) => r.task.type)).toEqual(['t0', 't1', 't2', 't3', 't4']);
    expect(t.seen.filter((s) => s === 'BEGIN IMMEDIATE')).toHaveLength(1);
    expect(t.seen.filter((s) => s === 'COMMIT')).toHaveLength(1);
    expect(t.seen.filter((s) => s.startsWith('SAVEPOINT'))).toHaveLength(5);
    // A lone write pays for no savepoint.
    t.seen.length = 0;
    await store.enqueue({ type: 'alone', payload: {} });
    expect(t.seen.filter((s) => s.startsWith('SAVEPOINT'))).toHaveLength(0);
    expect(t.seen.filter((s) => s === 'COMMIT')).toHaveLength(1);
  });

  it('writes issued one after another (awaiting each) each commit before the next starts', async () => {
    const t = statements();
    const { store } = makeStore({ trace: t.trace });
    t.seen.length = 0;
    for (let i = 0; i < 3; i++) await store.enqueue({ type: 'seq', payload: { i } });
    expect(t.seen.filter((s) => s === 'COMMIT')).toHaveLength(3);
  });

  it('a write that fails in a group is rolled back alone, with its outbox rows; the others commit', async () => {
    const { store, events } = makeStore();
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
    // Events: exactly the committed writes', gapless, in commit order.
    const fresh = events.slice(before);
    expect(fresh.map((e) => e.kind)).toEqual(['SUCCEEDED', 'ENQUEUED', 'PROGRESS']);
    expect(fresh.map((e) => e.id)).toEqual([lastId + 1, lastId + 2, lastId + 3]);
    const stored = await store.eventsAfter(lastId, 100);
    expect(stored.map((e) => e.id)).toEqual(fresh.map((e) => e.id));
  });

  it('two claims in one group never take the same task', async () => {
    const { store } = makeStore();
    await store.enqueueMany(Array.from({ length: 10 }, (_, i) => ({ type: 'x', payload: { i } })));
    const groups = await Promise.all(Array.from({ length: 4 }, (_, w) => store.claim({ workerId: `w${w}`, limit: 3 })));
    const ids = groups.flat().map((c) => c.task.id);
    expect(ids).toHaveLength(10);
    expect(new Set(ids).size).toBe(10);
    expect(groups.map((g) => g.length)).toEqual([3, 3, 3, 1]);
  });

  it('close() commits the writes already accepted', async () => {
    const path = join(tempDir(), 'close.db');
    const store = new SqliteTaskStore({ path, tailIntervalMs: 0 });
    const pending = [store.enqueue({ type: 'late', payload: { n: 1 } }), store.enqueue({ type: 'late', payload: { n: 2 } })];
    await store.close();
    const results = await Promise.all(pending);
    expect(results.every((r) => r.created)).toBe(true);
    const again = new SqliteTaskStore({ path, tailIntervalMs: 0 });
    try {
      expect(await again.countTasks({ type: ['late'] })).toBe(2);
    } finally {
      await again.close();
    }
    await expectError(store.enqueue({ type: 'after', payload: {} }), 'STORAGE');
  });
});
