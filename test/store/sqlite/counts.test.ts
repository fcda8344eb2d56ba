/**
 * SQLite-only. task_counts (migration 004) replaces counting rows: triggers keep one count per
 * (queue, type, status) in the same transaction as each change. These tests hold the
 * counts against a real count(*) after every kind of change, including an upgrade of a
 * file written at schema version 3, and check that listing by status still finds its
 * rows through an index.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { TASK_STATUSES, type TaskStatus } from '../../../src/store/index.js';
import { migrations } from '../../../src/store/sqlite/migrations/index.js';
import { SqliteTaskStore } from '../../../src/store/sqlite/store.js';
import { makeSqliteStore } from '../../helpers/sqlite.js';
import { tempDir } from '../../helpers/store.js';

type CountRow = { queue: string; type: string; status: TaskStatus; count: number };

function trueCounts(store: SqliteTaskStore): CountRow[] {
  return store.db
    .prepare('SELECT queue, type, status, count(*) AS count FROM tasks GROUP BY queue, status, type ORDER BY queue, status, type')
    .all() as CountRow[];
}

/** Every status reached, in two queues and several types. */
async function mixedWorkload(store: SqliteTaskStore, advance: (ms: number) => void): Promise<void> {
  const roots = await store.enqueueMany(
    Array.from({ length: 60 }, (_, i) => ({ type: `t${i % 3}`, queue: i % 2 ? 'a' : 'b', payload: { i }, maxAttempts: 2 })),
  );
  await store.enqueue({ type: 'child', queue: 'a', payload: {}, dependsOn: [roots[1]!.task.id] }); // unblocked below
  await store.enqueue({ type: 'child', queue: 'a', payload: {}, dependsOn: [roots[59]!.task.id] }); // stays BLOCKED
  for (const queue of ['a', 'b']) {
    const claimed = await store.claim({ workerId: `w-${queue}`, queue, limit: 12, leaseSeconds: 5 });
    const [c0, c1, c2, c3, c4, c5] = claimed;
    await store.completeMany([c0!, c1!].map((c) => ({ taskId: c.task.id, leaseToken: c.leaseToken })));
    await store.fail({ taskId: c2!.task.id, leaseToken: c2!.leaseToken, error: 'again' });
    await store.fail({ taskId: c3!.task.id, leaseToken: c3!.leaseToken, error: 'no', retryable: false });
    await store.cancel(c4!.task.id);
    await store.reportProgress({ taskId: c5!.task.id, leaseToken: c5!.leaseToken, progress: 0.5 });
  }
  const late = await store.enqueue({ type: 't2', queue: 'b', payload: {} });
  await store.cancel(late.task.id);
  await store.retry(late.task.id);
  advance(60_000); // leases of the rest expire
  await store.sweep();
  await store.claim({ workerId: 'w-late', queue: 'b', limit: 2, leaseSeconds: 600 });
}

describe('task_counts', () => {
  it('equals count(*) of the rows after enqueue, claim, complete, fail, cancel, retry, sweep and cleanup', async () => {
    const { store, clock } = makeSqliteStore();
    await mixedWorkload(store, (ms) => clock.advance(ms));
    const truth = trueCounts(store);
    expect(new Set(truth.map((r) => r.status))).toEqual(new Set(TASK_STATUSES));
    expect(await store.taskCounts()).toEqual(truth);
    // Cleanup deletes the finished rows: the delete trigger takes them off the counts.
    clock.advance(7 * 24 * 3_600_000);
    const removed = await store.cleanup(24 * 3_600_000);
    expect(removed.tasks).toBeGreaterThan(0);
    expect(await store.taskCounts()).toEqual(trueCounts(store));
  });

  it('stats and countTasks agree with counting the rows, with and without a queue', async () => {
    const { store, clock } = makeSqliteStore();
    await mixedWorkload(store, (ms) => clock.advance(ms));
    // More finished work that cleanup has not reached yet.
    const claimed = await store.claim({ workerId: 'w', queue: 'a', limit: 5 });
    await store.completeMany(claimed.map((c) => ({ taskId: c.task.id, leaseToken: c.leaseToken })));
    await store.cancel((await store.enqueue({ type: 't9', queue: 'b', payload: {} })).task.id);
    for (const queue of [null, 'a', 'b']) {
      const stats = await store.stats(queue);
      const where = queue ? `WHERE queue = '${queue}'` : '';
      for (const { status, count } of stats.counts) {
        const { c } = store.db.prepare(`SELECT count(*) AS c FROM tasks ${where ? `${where} AND` : 'WHERE'} status = ?`).get(status) as { c: number };
        expect(count, `${queue ?? 'all'} ${status}`).toBe(c);
      }
      const types = store.db.prepare(`SELECT DISTINCT type FROM tasks ${where} ORDER BY type`).all() as { type: string }[];
      expect(stats.byType.map((t) => t.type)).toEqual(types.map((t) => t.type));
    }
    for (const filter of [{ status: ['QUEUED' as const] }, { queue: 'a', type: ['t1', 'child'] }, { status: ['SUCCEEDED' as const, 'CANCELLED' as const], queue: 'b' }, {}]) {
      const counted = await store.countTasks(filter);
      const page = await store.listTasks({ filter, first: 500 });
      expect(counted, JSON.stringify(filter)).toBe(page.items.length);
    }
  });

  it('an upgrade from schema version 3 counts the rows already in the file', async () => {
    const path = join(tempDir(), 'v3.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE taskwire_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    for (const m of migrations.filter((m) => m.version <= 3)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO taskwire_migrations VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    }
    const insert = db.prepare(
      `INSERT INTO tasks (queue, type, payload, status, run_after, created_at, updated_at) VALUES (?, ?, '{}', ?, 0, 0, 0)`,
    );
    const statuses: TaskStatus[] = ['QUEUED', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'BLOCKED', 'CANCELLED'];
    for (let i = 0; i < 70; i++) insert.run(i % 2 ? 'q1' : 'q2', `k${i % 5}`, statuses[i % statuses.length]);
    db.close();

    const store = new SqliteTaskStore({ path, tailIntervalMs: 0 });
    try {
      expect(store.info.schemaVersion).toBeGreaterThanOrEqual(4);
      expect(await store.taskCounts()).toEqual(trueCounts(store));
      // ... and keeps counting from there.
      const [c] = await store.claim({ workerId: 'w', queue: 'q1' });
      await store.complete({ taskId: c!.task.id, leaseToken: c!.leaseToken });
      expect(await store.taskCounts()).toEqual(trueCounts(store));
    } finally {
      await store.close();
    }
  });
});

describe('listing by status after migration 004', () => {
  function planOf(store: SqliteTaskStore, run: () => Promise<unknown>): Promise<string[]> {
    const original = store.db.prepare.bind(store.db);
    const seen: string[] = [];
    (store.db as unknown as { prepare: (sql: string) => unknown }).prepare = (sql: string) => {
      seen.push(sql);
      return original(sql);
    };
    return run().then(() => {
      (store.db as unknown as { prepare: typeof original }).prepare = original;
      const sql = seen.find((s) => s.startsWith('SELECT') && /FROM tasks/.test(s) && /ORDER BY/.test(s))!;
      const params = (sql.match(/\?/g) ?? []).map(() => null);
      return (original(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail);
    });
  }

  it.each([
    ['FAILED', null, 'ix_tasks_settled_status'],
    ['SUCCEEDED', null, 'ix_tasks_settled_status'],
    ['BLOCKED', 'a', 'ix_tasks_settled_status'],
    ['QUEUED', 'a', 'ix_tasks_claim_fifo'],
    ['RUNNING', null, 'ix_tasks_running'],
  ] as const)('status %s (queue %s) is listed through %s and returns the right rows', async (status, queue, index) => {
    const { store, clock } = makeSqliteStore();
    await mixedWorkload(store, (ms) => clock.advance(ms));
    await store.claim({ workerId: 'w', queue: 'a', limit: 3 });
    // A distinct statement text per case: the statement cache would otherwise hide the prepare.
    const plan = await planOf(store, () => store.listTasks({ filter: { status: [status], queue }, first: 7 }));
    expect(plan.join('\n')).toContain(`INDEX ${index}`);
    const listed = await store.listTasks({ filter: { status: [status], queue }, first: 500 });
    const { c } = store.db
      .prepare(`SELECT count(*) AS c FROM tasks WHERE status = ? ${queue ? 'AND queue = ?' : ''}`)
      .get(...(queue ? [status, queue] : [status])) as { c: number };
    expect(c).toBeGreaterThan(0);
    expect(listed.items.length).toBe(c);
    expect(listed.items.every((e) => e.node.status === status && (!queue || e.node.queue === queue))).toBe(true);
    const ids = listed.items.map((e) => e.node.id);
    expect(ids).toEqual([...ids].sort((x, y) => y - x));
  });
});
