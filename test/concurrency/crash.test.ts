/**
 * SIGKILL in the middle of a stream of writes. After reopening the file, everything the
 * child acknowledged (printed after the write's promise resolved) is there, the file
 * passes integrity_check, and no task is half-changed: row and outbox always agree.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteTaskStore } from '../../src/store/sqlite/store.js';
import { Child, makeTempDir } from './harness.js';

const ROUNDS = 3;

interface Acked {
  enq: Map<number, string>;
  claim: Map<number, string>;
  done: Map<number, string>;
}

function parse(lines: readonly string[]): Acked {
  const acked: Acked = { enq: new Map(), claim: new Map(), done: new Map() };
  for (const line of lines) {
    const [tag, id, value] = line.split(' ');
    if (tag === 'ENQ') acked.enq.set(Number(id), value!);
    else if (tag === 'CLAIM') acked.claim.set(Number(id), value!);
    else if (tag === 'DONE') acked.done.set(Number(id), value!);
  }
  return acked;
}

interface Row {
  id: number;
  queue: string;
  status: string;
  attempts: number;
  idempotency_key: string | null;
  lease_token: string | null;
  lease_until: number | null;
  locked_by: string | null;
  started_at: number | null;
  finished_at: number | null;
  result: string | null;
  kinds: string | null;
}

describe('crash: SIGKILL mid-stream', () => {
  const tmp = makeTempDir('crash');
  const dbPath = join(tmp.dir, 'crash.db');
  const children: Child[] = [];
  afterAll(() => {
    for (const c of children) c.kill();
    tmp.remove();
  });

  it(`keeps every acknowledged write and stays consistent, over ${ROUNDS} kills of the same file`, async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      const child = new Child('crash-writer.ts', [dbPath, String(round)]);
      children.push(child);
      // Kill after a few hundred acknowledged lines, at a different point each round.
      const killAt = 300 + round * 137;
      let killed = false;
      child.onLine((_line, count) => {
        if (!killed && count >= killAt) {
          killed = true;
          child.kill('SIGKILL');
        }
      });
      const exit = await child.exited;
      expect(child.lines.filter((l) => l.startsWith('ERROR')), child.stderr).toEqual([]);
      expect(child.lines).not.toContain('END');
      expect(exit.signal).toBe('SIGKILL');
      // Lines that arrived after the kill was sent were still written before the process died.
      const acked = parse(child.lines);
      expect(acked.enq.size).toBeGreaterThan(200);
      expect(acked.done.size).toBeGreaterThan(20);

      const store = new SqliteTaskStore({ path: dbPath, tailIntervalMs: 0 });
      try {
        expect(await store.maintenance.integrityCheck()).toEqual(['ok']);
        const rows = store.db
          .prepare(
            `SELECT t.id, t.queue, t.status, t.attempts, t.idempotency_key, t.lease_token, t.lease_until, t.locked_by,
                    t.started_at, t.finished_at, t.result,
                    (SELECT group_concat(kind, ',') FROM (SELECT kind FROM task_events e WHERE e.task_id = t.id ORDER BY e.id)) AS kinds
             FROM tasks t ORDER BY t.id`,
          )
          .all() as Row[];
        const byId = new Map(rows.map((r) => [r.id, r]));

        // 1. Every acknowledged write is there.
        for (const [id, key] of acked.enq) {
          const r = byId.get(id);
          expect(r, `acknowledged task ${id} is missing`).toBeDefined();
          expect(r!.idempotency_key).toBe(key);
          expect(r!.queue).toBe(`r${round}`);
        }
        for (const [id, token] of acked.claim) {
          const r = byId.get(id)!;
          expect(r.attempts, `claimed task ${id}`).toBe(1);
          expect(r.locked_by).toBe(`crash-${round}`);
          if (acked.done.has(id)) continue;
          // Claimed, completion not acknowledged: still RUNNING under the same token, or
          // SUCCEEDED if the completion committed just before the kill.
          expect(['RUNNING', 'SUCCEEDED'], `claimed task ${id}`).toContain(r.status);
          if (r.status === 'RUNNING') expect(r.lease_token).toBe(token);
        }
        for (const [id, marker] of acked.done) {
          const r = byId.get(id)!;
          expect(r.status, `completed task ${id}`).toBe('SUCCEEDED');
          expect(JSON.parse(r.result!)).toEqual({ marker });
        }

        // 2. Writes that were not acknowledged: at most the one operation in flight (a
        //    batch of up to 5 enqueues, one claim, or one completion).
        const unackedTasks = rows.filter((r) => r.queue === `r${round}` && !acked.enq.has(r.id));
        expect(unackedTasks.length).toBeLessThanOrEqual(5);
        const unackedClaims = rows.filter((r) => r.queue === `r${round}` && r.status !== 'QUEUED' && !acked.claim.has(r.id));
        expect(unackedClaims.length).toBeLessThanOrEqual(1);

        // 3. No task is half-changed, in any round so far: each status has exactly its
        //    columns, and the outbox rows of the same transactions are there, no more.
        const half: string[] = [];
        for (const r of rows) {
          const ok =
            r.status === 'QUEUED'
              ? r.attempts === 0 && r.lease_token === null && r.lease_until === null && r.started_at === null &&
                r.finished_at === null && r.result === null && r.kinds === 'ENQUEUED'
              : r.status === 'RUNNING'
                ? r.attempts === 1 && r.lease_token !== null && r.lease_until !== null && r.locked_by !== null &&
                  r.started_at !== null && r.finished_at === null && r.result === null && r.kinds === 'ENQUEUED,CLAIMED'
                : r.status === 'SUCCEEDED'
                  ? r.attempts === 1 && r.lease_token === null && r.lease_until === null && r.finished_at !== null &&
                    r.result !== null && r.kinds === 'ENQUEUED,CLAIMED,SUCCEEDED'
                  : false;
          if (!ok) half.push(JSON.stringify(r));
        }
        expect(half.slice(0, 3)).toEqual([]);

        // 4. The idempotency index survived: re-sending acknowledged keys creates nothing.
        const keys = [...acked.enq.entries()].slice(0, 200);
        const again = await store.enqueueMany(keys.map(([, key]) => ({ type: 'crash', payload: {}, idempotencyKey: key })));
        expect(again.every((r) => !r.created)).toBe(true);
        expect(again.map((r) => r.task.id)).toEqual(keys.map(([id]) => id));

        // 5. The outbox ids have no holes (every event id is a committed change).
        const ev = store.db.prepare('SELECT min(id) AS lo, max(id) AS hi, count(*) AS n FROM task_events').get() as {
          lo: number;
          hi: number;
          n: number;
        };
        expect(ev.hi - ev.lo + 1).toBe(ev.n);
      } finally {
        await store.close();
      }
    }
  }, 180_000);
});
