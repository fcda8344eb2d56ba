/**
 * SQLite-only. The claim's candidate walks each use an index and never sort, whatever
 * the strategy, type and priority filters (candidateSql of sqlite/queries/claim.ts).
 *
 * The queue's hot path (claim, heartbeat, progress, complete and completeMany, fail, cancel, sweep) must
 * never sort and never walk a whole table, however long the queue gets. Every SQL text
 * the store prepares while doing that work is recorded and run through EXPLAIN QUERY
 * PLAN. The database has no ANALYZE statistics, as a fresh production file does not.
 */
import { describe, expect, it } from 'vitest';
import type { EnqueueInput } from '../../../src/store/index.js';
import { candidateSql } from '../../../src/store/sqlite/queries/claim.js';
import type { SqliteTaskStore } from '../../../src/store/sqlite/store.js';
import { makeSqliteStore } from '../../helpers/sqlite.js';
import { T0 } from '../../helpers/store.js';

function recordPrepares(store: SqliteTaskStore) {
  const seen = new Set<string>();
  const original = store.db.prepare.bind(store.db);
  const recorder = (sql: string) => {
    seen.add(sql);
    return original(sql);
  };
  (store.db as unknown as { prepare: typeof recorder }).prepare = recorder;
  return {
    seen,
    plan(sql: string): string[] {
      const named = [...new Set([...sql.matchAll(/@(\w+)/g)].map((m) => m[1]!))];
      const positional = (sql.match(/\?/g) ?? []).length;
      const stmt = original(`EXPLAIN QUERY PLAN ${sql}`);
      const rows = named.length > 0 ? stmt.all(Object.fromEntries(named.map((n) => [n, null]))) : stmt.all(...new Array(positional).fill(null));
      return (rows as { detail: string }[]).map((r) => r.detail);
    },
  };
}

async function busyQueue(store: SqliteTaskStore) {
  const inputs: EnqueueInput[] = [];
  for (let i = 0; i < 3000; i++) {
    inputs.push({
      type: `t${i % 4}`,
      priority: i % 9,
      payload: i % 3 ? { format: 'png' } : {},
      compatibility: i % 5 ? { region: 'eu' } : {},
    });
  }
  const roots = await store.enqueueMany(inputs);
  // Plenty of BLOCKED work waiting on a few roots.
  await store.enqueueMany(Array.from({ length: 2000 }, (_, i) => ({ type: 'child', payload: {}, dependsOn: [roots[i % 50]!.task.id] })));
}

describe('query plans of the hot path', () => {
  it('never sorts and never scans a whole table', async () => {
    const { store, clock } = makeSqliteStore();
    await busyQueue(store);
    const rec = recordPrepares(store);
    await store.setConcurrencyLimit({ queue: 'default', type: null, limit: 10_000 });
    await store.setConcurrencyLimit({ queue: 'default', type: 't1', limit: 10_000 });
    for (const strategy of ['FIFO', 'LIFO', 'PRIORITY', 'WEIGHTED_RANDOM'] as const) {
      for (const types of [null, ['t1', 't2']]) {
        const claimed = await store.claim({ workerId: 'w', strategy, types, limit: 6, capabilities: { region: 'eu', formats: ['png'] } });
        expect(claimed.length).toBe(6);
        const refs = claimed.map((c) => ({ taskId: c.task.id, leaseToken: c.leaseToken }));
        await store.heartbeat({ workerId: 'w', leases: refs });
        await store.reportProgress({ ...refs[0]!, progress: 0.5 });
        await store.complete(refs[0]!);
        await store.fail({ ...refs[1]!, error: 'retry me' });
        await store.fail({ ...refs[2]!, error: 'give up', retryable: false });
        await store.cancel(refs[3]!.taskId);
        // The batch forms: one statement over the list.
        await store.completeMany([refs[4]!, refs[5]!]);
      }
    }
    clock.advance(3_600_000);
    await store.sweep();

    const statements = [...rec.seen].filter((sql) => /\b(tasks|task_dependencies)\b/.test(sql));
    expect(statements.length).toBeGreaterThan(10);
    for (const sql of statements) {
      const plan = rec.plan(sql).join('\n');
      const label = sql.replace(/\s+/g, ' ').slice(0, 120);
      expect(plan, label).not.toMatch(/TEMP B-TREE/);
      // A bare SCAN of tasks or task_dependencies reads every row.
      expect(plan, label).not.toMatch(/^SCAN (tasks|task_dependencies|t|p|d|d2)$/m);
      // Walking a partial index of RUNNING rows is fine; walking every row of a status is not.
      expect(plan, label).not.toMatch(/SCAN (tasks|t) USING (COVERING )?INDEX (?!ix_tasks_running\b)/);
    }
  });

  it('finding the dependents of a completed task starts from its dependency edges, not from every BLOCKED task', async () => {
    const { store } = makeSqliteStore();
    await busyQueue(store);
    const rec = recordPrepares(store);
    const [c] = await store.claim({ workerId: 'w', types: ['t0'] });
    await store.complete({ taskId: c!.task.id, leaseToken: c!.leaseToken });
    const lookups = [...rec.seen].filter((sql) => /FROM task_dependencies d (CROSS )?JOIN tasks t/.test(sql));
    expect(lookups.length).toBeGreaterThan(0);
    for (const sql of lookups) {
      const plan = rec.plan(sql);
      // The outermost loop must be the index on depends_on_id: a handful of rows per
      // completed task. Starting from ix_tasks_status_id (status='BLOCKED') visits every
      // blocked task in the database on every completion.
      expect(plan[0], plan.join('\n')).toMatch(/^SEARCH d USING (COVERING )?INDEX ix_task_dependencies_depends_on \(depends_on_id=\?/);
    }
  });
});

describe('query plans of the claim walks', () => {
  it('EXPLAIN QUERY PLAN: every candidate query walks an index and never sorts', async () => {
    const { store } = makeSqliteStore();
    // Some data and statistics, so the planner has a real choice to make.
    const inputs: EnqueueInput[] = [];
    for (let i = 0; i < 2000; i++) {
      inputs.push({
        type: `t${i % 5}`,
        queue: i % 2 ? 'q' : 'default',
        payload: i % 3 ? { format: 'png' } : {},
        compatibility: i % 4 ? { region: 'eu' } : {},
        priority: i % 7,
      });
    }
    await store.enqueueMany(inputs);
    const all = await store.claim({ workerId: 'w', limit: 300 });
    await store.completeMany(all.map((c) => ({ taskId: c.task.id, leaseToken: c.leaseToken })));
    store.db.exec('ANALYZE');

    const params = {
      queue: 'q',
      type: 't1',
      priority: 3,
      now: T0,
      region: 'eu',
      formats: JSON.stringify(['png']),
      excluded: JSON.stringify(['t2']),
      limit: 10,
    };
    let checked = 0;
    for (const order of ['PRIORITY', 'FIFO', 'LIFO'] as const) {
      for (const byType of [false, true]) {
        // false: any priority; true: one level (WEIGHTED_RANDOM); 'gt': the levels after one.
        for (const atPriority of [false, true, 'gt'] as const) {
          // Every filter, and none (a worker without formats, no type at its limit).
          for (const shape of [{ formats: true, excluded: true }, { formats: false, excluded: false }]) {
            const label = `${order} byType=${byType} atPriority=${atPriority} filters=${shape.formats}`;
            const sql = candidateSql(order, byType, atPriority, shape);
            const plan = (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[]).map((r) => r.detail);
            const text = plan.join('\n');
            expect(text, label).toMatch(/SEARCH tasks USING (COVERING )?INDEX ix_tasks_claim_/);
            expect(text, label).not.toMatch(/TEMP B-TREE/);
            expect(text, label).not.toMatch(/SCAN tasks\b/);
            // The query also runs and returns rows in the strategy's order.
            const rows = store.db.prepare(sql).all(params) as { id: number; priority: number }[];
            if (order === 'FIFO') expect(rows.map((r) => r.id)).toEqual([...rows.map((r) => r.id)].sort((a, b) => a - b));
            if (order === 'LIFO') expect(rows.map((r) => r.id)).toEqual([...rows.map((r) => r.id)].sort((a, b) => b - a));
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(36);
  });
});
