/**
 * Four OS processes claim and complete 10,000 tasks from one SQLite file.
 * Each task must complete exactly once, none may be lost, and no process may see an
 * error (SQLITE_BUSY in particular must be absorbed by the busy timeout, not surface).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnqueueInput } from '../../src/store/index.js';
import { SqliteTaskStore } from '../../src/store/sqlite/store.js';
import { Child, makeTempDir } from './harness.js';

const TASKS = 10_000;
const WORKERS = 4;

interface WorkerReport {
  workerId: string;
  completed: number[];
  rounds: number;
  bad: string[];
}

describe('4 processes claiming from one file', () => {
  const tmp = makeTempDir('claim');
  const dbPath = join(tmp.dir, 'queue.db');
  let ids: number[] = [];
  const reports: WorkerReport[] = [];
  const children: Child[] = [];

  beforeAll(async () => {
    const store = new SqliteTaskStore({ path: dbPath, tailIntervalMs: 0 });
    for (let start = 0; start < TASKS; start += 1000) {
      const batch: EnqueueInput[] = [];
      for (let i = start; i < Math.min(TASKS, start + 1000); i++) {
        batch.push({ type: i % 3 === 0 ? 'alpha' : 'beta', payload: { i }, priority: i % 5 });
      }
      const results = await store.enqueueMany(batch);
      ids.push(...results.map((r) => r.task.id));
    }
    await store.close();
    expect(new Set(ids).size).toBe(TASKS);

    for (let w = 0; w < WORKERS; w++) {
      children.push(new Child('claim-worker.ts', [dbPath, `w${w}`, join(tmp.dir, `w${w}.json`), '20']));
    }
    // A start barrier: every process has opened the store before any claims, so they
    // really contend for the write lock instead of running one after the other.
    await Promise.all(children.map((c) => c.waitForLine((l) => l === 'READY' || l.startsWith('ERROR'))));
    for (const c of children) c.send('GO');
    const exits = await Promise.all(children.map((c) => c.exited));
    for (let w = 0; w < WORKERS; w++) {
      const c = children[w]!;
      const errors = c.lines.filter((l) => l.startsWith('ERROR'));
      expect(errors, `worker w${w} reported errors; stderr: ${c.stderr}`).toEqual([]);
      expect(exits[w], `worker w${w} exit; stderr: ${c.stderr}`).toEqual({ code: 0, signal: null });
      reports.push(JSON.parse(readFileSync(join(tmp.dir, `w${w}.json`), 'utf8')) as WorkerReport);
    }
  }, 180_000);

  afterAll(() => {
    for (const c of children) c.kill();
    tmp.remove();
  });

  it('no process saw an error, and every claim and completion returned a consistent task', () => {
    for (const r of reports) expect(r.bad, r.workerId).toEqual([]);
    for (const c of children) expect(c.lines.some((l) => l.startsWith('FINISHED '))).toBe(true);
  });

  it('the work was actually shared between processes', () => {
    const busy = reports.filter((r) => r.completed.length > 0);
    // Not a timing assertion on throughput: only that the test exercised concurrency.
    expect(busy.length).toBeGreaterThanOrEqual(2);
  });

  it('each task completed exactly once across all processes, none lost', () => {
    const all = reports.flatMap((r) => r.completed);
    expect(all.length).toBe(TASKS);
    expect(new Set(all).size).toBe(TASKS);
    expect([...all].sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
  });

  it('the file agrees: every task SUCCEEDED once, by the process that reported it', async () => {
    const store = new SqliteTaskStore({ path: dbPath, tailIntervalMs: 0 });
    try {
      expect(await store.maintenance.integrityCheck()).toEqual(['ok']);
      const rows = store.db
        .prepare('SELECT id, status, attempts, locked_by, result, lease_token, finished_at FROM tasks ORDER BY id')
        .all() as { id: number; status: string; attempts: number; locked_by: string; result: string; lease_token: string | null; finished_at: number | null }[];
      expect(rows.length).toBe(TASKS);
      const by = new Map<number, string>();
      for (const r of reports) for (const id of r.completed) by.set(id, r.workerId);
      const wrong = rows.filter(
        (r) =>
          r.status !== 'SUCCEEDED' ||
          r.attempts !== 1 ||
          r.lease_token !== null ||
          r.finished_at === null ||
          r.locked_by !== by.get(r.id) ||
          JSON.parse(r.result).by !== by.get(r.id),
      );
      expect(wrong.slice(0, 5)).toEqual([]);

      // The outbox holds exactly one ENQUEUED, one CLAIMED and one SUCCEEDED per task,
      // with the claiming worker on the CLAIMED row.
      const events = store.db
        .prepare(
          `SELECT task_id, group_concat(kind, ',') AS kinds, max(CASE WHEN kind = 'CLAIMED' THEN worker_id END) AS w
           FROM (SELECT * FROM task_events WHERE task_id IS NOT NULL ORDER BY id) GROUP BY task_id`,
        )
        .all() as { task_id: number; kinds: string; w: string }[];
      expect(events.length).toBe(TASKS);
      const odd = events.filter((e) => e.kinds !== 'ENQUEUED,CLAIMED,SUCCEEDED' || e.w !== by.get(e.task_id));
      expect(odd.slice(0, 5)).toEqual([]);
      const stats = await store.stats();
      expect(stats.counts.find((c) => c.status === 'SUCCEEDED')!.count).toBe(TASKS);
      expect(stats.counts.filter((c) => c.status !== 'SUCCEEDED').every((c) => c.count === 0)).toBe(true);
    } finally {
      await store.close();
    }
  });
});
