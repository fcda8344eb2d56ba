/**
 * SQLite-only: worker processes on one file, and an audit trigger in SQL (the same race
 * between two stores, on every driver: test/races/claim.test.ts).
 *
 * Concurrency limits under real contention: four worker PROCESSES (fixtures/limited-worker.ts)
 * claim from one file under a limit. The limit is checked three ways:
 *  - at every claim, inside the claim's own transaction: a trigger the test adds to the
 *    database records the RUNNING count each time a task turns RUNNING;
 *  - in each worker, with a read on its own connection right after its claim returns;
 *  - in the parent, by sampling the RUNNING count while the workers run.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnqueueInput } from '../../src/store/index.js';
import { SqliteTaskStore } from '../../src/store/sqlite/store.js';
import { Child, tempDir } from './harness.js';

interface Report {
  workerId: string;
  completed: number[];
  claims: number;
  emptyClaims: number;
  maxSeen: number;
  violations: string[];
}

interface Audit {
  task_id: number;
  type: string;
  running: number;
  running_type: number;
}

/** Records, inside the claim transaction, the RUNNING counts right after each task is claimed. */
function installAudit(store: SqliteTaskStore): void {
  store.db.exec(`
    CREATE TABLE claim_audit (id INTEGER PRIMARY KEY, task_id INTEGER, type TEXT, running INTEGER, running_type INTEGER);
    CREATE TRIGGER claim_audit AFTER UPDATE OF status ON tasks
    WHEN NEW.status = 'RUNNING' AND OLD.status <> 'RUNNING'
    BEGIN
      INSERT INTO claim_audit (task_id, type, running, running_type) VALUES (
        NEW.id, NEW.type,
        (SELECT count(*) FROM tasks WHERE status = 'RUNNING' AND queue = NEW.queue),
        (SELECT count(*) FROM tasks WHERE status = 'RUNNING' AND queue = NEW.queue AND type = NEW.type));
    END;`);
}

// The four worker processes are started once and do one run per test.
let workers: Child[] = [];
beforeAll(async () => {
  workers = [0, 1, 2, 3].map((w) => new Child('limited-worker.ts', [`w${w}`], true));
  await Promise.all(workers.map((w) => w.line((l) => l === 'READY', 45_000)));
}, 60_000);
afterAll(() => {
  for (const w of workers) w.kill();
});

async function runWorkers(path: string, queue: string, limitType: string | null, max: number, sampler: SqliteTaskStore) {
  const count = sampler.db.prepare(
    `SELECT count(*) AS c FROM tasks WHERE status = 'RUNNING' AND queue = @queue AND (@type IS NULL OR type = @type)`,
  );
  let sampledMax = 0;
  let samples = 0;
  let finished = false;
  const sampling = (async () => {
    while (!finished) {
      sampledMax = Math.max(sampledMax, (count.get({ queue, type: limitType }) as { c: number }).c);
      samples++;
      await new Promise((r) => setTimeout(r, 1));
    }
  })();
  // Start together, so that the four really contend.
  for (const w of workers) w.send(`RUN ${path} ${queue} ${limitType ?? '-'} ${max}`);
  const done = `DONE ${queue} `;
  const lines = await Promise.all(workers.map((w) => w.line((l) => l.startsWith(done), 30_000)));
  finished = true;
  await sampling;
  const reports = lines.map((l) => JSON.parse(l.slice(done.length)) as Report);
  for (const w of workers) expect(w.lines.filter((l) => l.startsWith('ERROR')), w.stderr).toEqual([]);
  return { reports, sampledMax, samples };
}

function seed(count: number, make: (i: number) => EnqueueInput): EnqueueInput[] {
  return Array.from({ length: count }, (_, i) => make(i));
}

describe('four worker processes under a concurrency limit', () => {
  it('a queue-wide limit of 3: never more than 3 RUNNING at any claim, and every task SUCCEEDED once', async () => {
    const path = join(tempDir('limits'), 'q.db');
    const store = new SqliteTaskStore({ path, tailIntervalMs: 0 });
    try {
      const enqueued = await store.enqueueMany(seed(48, (i) => ({ type: i % 2 ? 'odd' : 'even', queue: 'render', payload: { i } })));
      // Tasks in another queue are not counted against the limit, nor claimed.
      await store.enqueueMany(seed(5, (i) => ({ type: 'odd', queue: 'other', payload: { i } })));
      expect(await store.setConcurrencyLimit({ queue: 'render', type: null, limit: 3 })).toEqual({ queue: 'render', type: null, limit: 3 });
      installAudit(store);

      const { reports, sampledMax, samples } = await runWorkers(path, 'render', null, 3, store);

      const audit = store.db.prepare('SELECT task_id, type, running, running_type FROM claim_audit ORDER BY id').all() as Audit[];
      // One audit row per claim of a task: 48 claims, each task once.
      expect(audit).toHaveLength(48);
      expect(new Set(audit.map((a) => a.task_id)).size).toBe(48);
      const overLimit = audit.filter((a) => a.running > 3);
      expect(overLimit, 'claims that left more than 3 RUNNING').toEqual([]);
      // The limit was actually reached (the test is not vacuous), and never passed.
      expect(Math.max(...audit.map((a) => a.running))).toBe(3);

      for (const r of reports) {
        expect(r.violations, r.workerId).toEqual([]);
        expect(r.maxSeen, r.workerId).toBeLessThanOrEqual(3);
      }
      expect(samples).toBeGreaterThan(10);
      expect(sampledMax).toBeLessThanOrEqual(3);
      // The four shared the work, and some of them were turned away by the limit.
      expect(reports.filter((r) => r.completed.length > 0).length).toBeGreaterThanOrEqual(2);
      expect(reports.reduce((n, r) => n + r.emptyClaims, 0)).toBeGreaterThan(0);

      const completed = reports.flatMap((r) => r.completed).sort((a, b) => a - b);
      expect(completed).toEqual(enqueued.map((e) => e.task.id).sort((a, b) => a - b));
      expect(await store.countTasks({ queue: 'render', status: ['SUCCEEDED'] })).toBe(48);
      expect(await store.countTasks({ queue: 'render', status: ['QUEUED', 'RUNNING', 'FAILED', 'CANCELLED', 'BLOCKED'] })).toBe(0);
      for (const e of enqueued) expect((await store.getTask(e.task.id))!.attempts).toBe(1);
      expect(await store.countTasks({ queue: 'other', status: ['QUEUED'] })).toBe(5);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('a per-type limit of 2: never more than 2 of that type RUNNING, while other types keep flowing', async () => {
    const path = join(tempDir('limits'), 'q.db');
    const store = new SqliteTaskStore({ path, tailIntervalMs: 0 });
    try {
      const enqueued = await store.enqueueMany(seed(60, (i) => ({ type: i % 2 ? 'heavy' : 'light', queue: 'media', payload: { i } })));
      await store.setConcurrencyLimit({ queue: 'media', type: 'heavy', limit: 2 });
      expect(await store.listConcurrencyLimits()).toEqual([{ queue: 'media', type: 'heavy', limit: 2 }]);
      installAudit(store);

      const { reports, sampledMax } = await runWorkers(path, 'media', 'heavy', 2, store);

      const audit = store.db.prepare('SELECT task_id, type, running, running_type FROM claim_audit ORDER BY id').all() as Audit[];
      expect(audit).toHaveLength(60);
      const heavy = audit.filter((a) => a.type === 'heavy');
      expect(heavy).toHaveLength(30);
      expect(heavy.filter((a) => a.running_type > 2), 'heavy claims that left more than 2 heavy RUNNING').toEqual([]);
      expect(Math.max(...heavy.map((a) => a.running_type))).toBe(2);
      // The queue as a whole was not held to 2: light tasks ran alongside.
      expect(Math.max(...audit.map((a) => a.running))).toBeGreaterThan(2);

      for (const r of reports) {
        expect(r.violations, r.workerId).toEqual([]);
        expect(r.maxSeen, r.workerId).toBeLessThanOrEqual(2);
      }
      expect(sampledMax).toBeLessThanOrEqual(2);
      const completed = reports.flatMap((r) => r.completed).sort((a, b) => a - b);
      expect(completed).toEqual(enqueued.map((e) => e.task.id).sort((a, b) => a - b));
      expect(await store.countTasks({ queue: 'media', status: ['SUCCEEDED'] })).toBe(60);
    } finally {
      await store.close();
    }
  }, 60_000);
});
