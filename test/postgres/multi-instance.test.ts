/**
 * Three real server processes (`src/cli.ts serve`) on one PostgreSQL schema, driven by
 * real client processes over graphql-ws:
 * - two producers (enqueueTasks batches) and four workers (claim 50, completeTasks), each
 *   on one of the instances, drain 10,000 tasks: each completes exactly once, by the
 *   database (status, attempts, its outbox rows) and by the workers' own reports;
 * - one taskEvents subscriber per instance: each sees the outbox's task events, all of
 *   them, in the outbox's order, the same on every instance;
 * - a subscriber that leaves instance A and resumes on C with its last cursor, while
 *   writes go on, misses nothing and sees nothing twice;
 * - a queue with a concurrency limit of 3, claimed from all instances at once, never has
 *   more than 3 RUNNING tasks, as a trigger inside the database records after every change;
 * - an interval schedule, with all three schedulers ticking, enqueues one task per due time.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TASK_EVENT_KINDS } from '../../src/store/index.js';
import type { Connection } from '../../src/worker/connection.js';
import { Child } from '../concurrency/harness.js';
import { sleep, taskNumber } from '../faults/fixtures/gql.js';
import { ServerProcess, freePort, waitFor } from '../faults/server.js';
import { adminPool, freshSchemaUrl } from '../helpers/postgres.js';
import { connectTo, TASK_EVENTS } from './fixtures/multi-instance-client.js';

const TASKS = 10_000;
const PRODUCERS = 2;
const BATCH = 250;
const LIMITED_PER_BATCH = 3;
/** Batches each producer keeps in flight. */
const IN_FLIGHT = 3;
const LIMITED_TASKS = PRODUCERS * Math.ceil(TASKS / PRODUCERS / BATCH) * LIMITED_PER_BATCH;
const WORKERS = 4;
const LIMIT = 3;
const BULK = 'bulk';
const LIMITED = 'limited';
const SCHEDULE = 'every-second';
/** The moved subscriber leaves instance A after this many events. */
const MOVE_AFTER = 1_000;

const TASK_KINDS: ReadonlySet<string> = new Set(TASK_EVENT_KINDS);
const fixture = (name: string) => join('..', 'postgres', 'fixtures', name);

interface Seen {
  pos: number;
  kind: string;
  taskId: number;
}

/** One taskEvents subscription on its own graphql-ws connection. */
class Subscriber {
  readonly events: Seen[] = [];
  error: Error | null = null;
  private closed = false;
  private readonly conn: Connection;
  private readonly end: () => void;

  constructor(
    readonly label: string,
    url: string,
    readonly after: string,
  ) {
    this.conn = connectTo(url);
    live.connections.push(this.conn);
    this.end = this.conn.subscribe(TASK_EVENTS, { after }, {
      next: ({ taskEvents: e }) => this.events.push({ pos: Number(e.cursor), kind: e.kind, taskId: taskNumber(e.task.id) }),
      error: (e) => {
        if (!this.closed) this.error ??= e;
      },
      complete: () => {
        if (!this.closed) this.error ??= new Error('the subscription completed');
      },
    });
  }

  get last(): number {
    return this.events.at(-1)?.pos ?? Number(this.after);
  }

  /** Ends the subscription; returns what it received (nothing arrives after this). */
  async close(): Promise<Seen[]> {
    this.closed = true;
    this.end();
    const seen = [...this.events];
    await this.conn.close();
    return seen;
  }
}

/** Everything the test started, killed in afterEach even when it failed. */
const live = { servers: [] as ServerProcess[], children: [] as Child[], connections: [] as Connection[] };

async function killAll(): Promise<void> {
  for (const c of live.connections.splice(0)) await c.close().catch(() => {});
  const children = live.children.splice(0);
  for (const c of children) c.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  await Promise.all(live.servers.splice(0).map((s) => s.kill('SIGKILL')));
}

/** The first index where two sequences differ, with what each holds there; null if equal. */
function firstDifference(label: string, got: readonly Seen[], want: readonly Seen[]): string | null {
  const n = Math.max(got.length, want.length);
  for (let i = 0; i < n; i++) {
    const g = got[i];
    const w = want[i];
    if (!g || !w || g.pos !== w.pos || g.kind !== w.kind || g.taskId !== w.taskId) {
      return `${label}: at #${i} of ${got.length} (want ${want.length}) got ${JSON.stringify(g ?? null)}, want ${JSON.stringify(w ?? null)}; before: ${JSON.stringify(got[i - 1] ?? null)}`;
    }
  }
  return null;
}

function childProblems(children: readonly Child[]): string[] {
  return children.flatMap((c, i) => c.lines.filter((l) => l.startsWith('ERROR')).map((l) => `child ${i}: ${l} ${c.stderr.slice(-500)}`));
}

describe('three server instances on one PostgreSQL schema', () => {
  afterEach(killAll);

  it('drain 10,000 tasks from 2 producers and 4 workers: exactly once, the same gapless events everywhere, a moved subscriber, a concurrency limit and a schedule', async () => {
    const url = freshSchemaUrl();
    const schema = new URL(url).searchParams.get('schema')!;
    const db = adminPool();
    const t = (name: string) => `${schema}.${name}`;
    const ports = [await freePort(), await freePort(), await freePort()];
    const t0 = performance.now();
    const stages: string[] = [];
    const stage = (what: string) => stages.push(`${what} ${Math.round(performance.now() - t0)} ms`);
    try {
      // Three instances, started together on the empty schema (the driver migrates it once),
      // with a short sweep so each runs its scheduler several times a second, and a
      // subscription buffer that a subscriber a few thousand events behind stays within.
      const servers = ports.map(
        (port) =>
          new ServerProcess({
            dbPath: url,
            port,
            env: { TASKWIRE_SWEEP_INTERVAL_MS: '200', TASKWIRE_SUBSCRIPTION_BUFFER: '1000000', TASKWIRE_LOG_LEVEL: 'warn' },
          }),
      );
      live.servers.push(...servers);
      const [A, B, C] = servers as [ServerProcess, ServerProcess, ServerProcess];

      // Clients in turn on A, B, C, A, ...: P1→A P2→B W1→C W2→A W3→B W4→C. They start now
      // (their start-up overlaps the servers') and connect on GO.
      const instanceOf = (i: number) => servers[i % 3]!;
      const producers = Array.from({ length: PRODUCERS }, (_, i) => {
        const args = [instanceOf(i).url, `p${i + 1}`, BULK, String(TASKS / PRODUCERS), String(BATCH), LIMITED, String(LIMITED_PER_BATCH), String(IN_FLIGHT)];
        return new Child(fixture('multi-instance-producer.ts'), args);
      });
      const workers = Array.from({ length: WORKERS }, (_, i) => new Child(fixture('multi-instance-worker.ts'), [instanceOf(PRODUCERS + i).url, `w${i + 1}`, BULK, LIMITED]));
      const workerInstance = workers.map((_, i) => (PRODUCERS + i) % 3);
      const children = [...producers, ...workers];
      live.children.push(...children);

      await Promise.all([...servers.map((s) => s.start(60_000)), ...children.map((c) => c.waitForLine((l) => l === 'READY', 60_000))]);
      stage('servers up');
      for (const s of servers) {
        const health = (await (await fetch(s.url.replace('/graphql', '/health'))).json()) as { backend: string; settings: { schema: string } };
        expect(health).toMatchObject({ backend: 'postgres', settings: { schema } });
      }

      // The concurrency check, inside the database: after every change of a task of the
      // limited queue, a trigger records how many of that queue's tasks are RUNNING. The
      // trigger's count sees what is committed plus its own transaction's changes.
      await db.query(`
        CREATE TABLE ${t('limit_audit')} (id bigserial PRIMARY KEY, running integer NOT NULL, task_id bigint NOT NULL, status text NOT NULL);
        CREATE FUNCTION ${t('audit_limited')}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO ${t('limit_audit')} (running, task_id, status)
            SELECT count(*), NEW.id, NEW.status FROM ${t('tasks')} WHERE queue = '${LIMITED}' AND status = 'RUNNING';
          RETURN NULL;
        END $$;
        CREATE TRIGGER limit_audit AFTER INSERT OR UPDATE ON ${t('tasks')}
          FOR EACH ROW WHEN (NEW.queue = '${LIMITED}') EXECUTE FUNCTION ${t('audit_limited')}();
      `);

      // The limit, set on A; C reads it from the shared database.
      await A.ok(`mutation { setConcurrencyLimit(input: { queue: "${LIMITED}", limit: ${LIMIT} }) { queue limit } }`);
      expect((await C.ok(`{ concurrencyLimits { queue type limit } }`)).concurrencyLimits).toEqual([{ queue: LIMITED, type: null, limit: LIMIT }]);

      // One subscriber per instance, and the one that will move from A to C, all from the start.
      const subscribers = servers.map((s, i) => new Subscriber(`instance ${'ABC'[i]}`, s.url, '0'));
      const movingOnA = new Subscriber('moved, on A', A.url, '0');

      // The schedule, upserted once on B; every instance's scheduler ticks every 200 ms.
      const upserted = await B.ok<{ upsertSchedule: { nextRunAt: string } }>(
        `mutation { upsertSchedule(input: { name: "${SCHEDULE}", intervalSeconds: 1, task: { type: "tick", queue: "scheduled", payload: {} } }) { nextRunAt } }`,
      );
      const firstFire = Date.parse(upserted.upsertSchedule.nextRunAt);
      const anchor = Number((await db.query(`SELECT anchor_at FROM ${t('schedules')} WHERE name = $1`, [SCHEDULE])).rows[0].anchor_at);

      const started = performance.now();
      for (const c of children) c.send('GO');
      const watched = [...subscribers, movingOnA];
      const check = () => {
        const problems = [...childProblems(children), ...watched.filter((s) => s.error).map((s) => `${s.label}: ${s.error!.message}`)];
        if (problems.length > 0) throw new Error(problems.join('\n'));
      };

      // The move: once the subscriber on A has MOVE_AFTER events, it disconnects; its last
      // cursor goes to C, while the producers and workers keep writing. (Subscribers trail
      // the writers by thousands of events here: each event costs its instance a read of
      // the task and a WebSocket frame per subscription, so the move comes early.)
      let state = '';
      const look = async () => {
        const { rows } = await db.query(`SELECT queue, status, count(*)::int AS n FROM ${t('tasks')} GROUP BY 1, 2 ORDER BY 1, 2`);
        const pos = (await db.query(`SELECT last_pos FROM ${t('event_sequence')}`)).rows[0].last_pos;
        state =
          `tasks ${rows.map((r) => `${r.queue}/${r.status} ${r.n}`).join(', ')}; outbox at ${pos}; ` +
          `subscribers ${[...subscribers, movingOnA].map((s) => `${s.label} ${s.events.length}`).join(', ')}; ` +
          `producers ${producers.map((p) => p.lines.at(-1)).join(', ')}`;
      };
      let looked = 0;
      await waitFor(
        async () => {
          check();
          if (movingOnA.events.length >= MOVE_AFTER) return true;
          if (performance.now() - looked > 2000) {
            looked = performance.now();
            await look();
          }
          return false;
        },
        () => `the moving subscriber to receive its first ${MOVE_AFTER} events; ${state}`,
        60_000,
        5,
      );
      stage('move');
      const partA = await movingOnA.close();
      const movedAt = partA.at(-1)!.pos;
      const outboxAtMove = Number((await db.query(`SELECT last_pos FROM ${t('event_sequence')}`)).rows[0].last_pos);
      const movedOnC = new Subscriber('moved, on C', C.url, String(movedAt));
      watched.push(movedOnC);
      const producersDoneAtMove = producers.filter((p) => p.lines.some((l) => l.startsWith('DONE'))).length;

      // Drained: every task of both queues SUCCEEDED, by the database.
      const expected = TASKS + LIMITED_TASKS;
      await waitFor(
        async () => {
          check();
          const { rows } = await db.query(`SELECT count(*)::int AS n FROM ${t('tasks')} WHERE queue IN ($1, $2) AND status = 'SUCCEEDED'`, [BULK, LIMITED]);
          return rows[0].n >= expected;
        },
        'every task to succeed',
        120_000,
        100,
      );
      const drainedMs = performance.now() - started;
      stage(`drained (subscribers at ${[...subscribers, movedOnC].map((s) => s.last).join('/')})`);
      for (const p of producers) expect((await p.exited).code, p.stderr).toBe(0);
      for (const w of workers) w.send('STOP');
      for (const w of workers) expect((await w.exited).code, `${w.lines.slice(-3).join('\n')}\n${w.stderr}`).toBe(0);

      // No more fires after this; then the outbox holds still: let every subscriber catch up.
      const disableFrom = Date.now();
      await C.ok(`mutation { setScheduleEnabled(name: "${SCHEDULE}", enabled: false) { enabled } }`);
      const disabledAt = Date.now();
      await sleep(500);
      const outbox = (
        await db.query<{ pos: string; kind: string; task_id: string | null }>(`SELECT pos, kind, task_id FROM ${t('task_events')} ORDER BY pos NULLS LAST`)
      ).rows.map((r) => ({ pos: r.pos === null ? null : Number(r.pos), kind: r.kind, taskId: r.task_id === null ? null : Number(r.task_id) }));
      const lastPos = outbox.reduce((max, r) => Math.max(max, r.pos ?? 0), 0);
      const want = outbox.filter((r) => TASK_KINDS.has(r.kind)) as Seen[];
      const lastTaskPos = want.at(-1)!.pos;
      const caughtUp = new Map<string, number>();
      await waitFor(
        () => {
          check();
          for (const s of [...subscribers, movedOnC]) if (s.last >= lastTaskPos) caughtUp.set(s.label, caughtUp.get(s.label) ?? Math.round(performance.now() - t0));
          return caughtUp.size === subscribers.length + 1;
        },
        () => `every subscriber to reach cursor ${lastTaskPos}: ${[...subscribers, movedOnC].map((s) => `${s.label} at ${s.last}`).join(', ')}`,
        120_000,
        20,
      );
      const caughtUpMs = performance.now() - started;
      stage(`caught up (${[...caughtUp].map(([l, ms]) => `${l} ${ms} ms`).join(', ')})`);
      const seen = await Promise.all(subscribers.map((s) => s.close()));
      const partC = await movedOnC.close();
      const reports = workers.map((w) => JSON.parse(w.lines.find((l) => l.startsWith('REPORT '))!.slice(7)));
      const made = producers.map((p) => JSON.parse(p.lines.find((l) => l.startsWith('DONE '))!.slice(5)));
      await killAll();

      // --- The outbox: numbered once committed, 1..N with no gap; nothing left unnumbered.
      expect(outbox.filter((r) => r.pos === null)).toEqual([]);
      expect(outbox.findIndex((r, i) => r.pos !== i + 1)).toBe(-1);

      // --- Exactly once, by the database.
      const producedBulk = made.flatMap((m) => m.bulk as number[]);
      const producedLimited = made.flatMap((m) => m.limited as number[]);
      expect(new Set(producedBulk).size).toBe(TASKS);
      expect(new Set(producedLimited).size).toBe(LIMITED_TASKS);
      const states = await db.query(
        `SELECT queue, status, attempts, count(*)::int AS n FROM ${t('tasks')} WHERE queue IN ($1, $2) GROUP BY 1, 2, 3 ORDER BY 1`,
        [BULK, LIMITED],
      );
      expect(states.rows).toEqual([
        { queue: BULK, status: 'SUCCEEDED', attempts: 1, n: TASKS },
        { queue: LIMITED, status: 'SUCCEEDED', attempts: 1, n: LIMITED_TASKS },
      ]);
      // Each task's outbox rows: one ENQUEUED, one CLAIMED, one SUCCEEDED, in that order.
      const histories = await db.query(
        `SELECT h.kinds, count(*)::int AS n FROM (
           SELECT e.task_id, string_agg(e.kind, ',' ORDER BY e.pos) AS kinds
             FROM ${t('task_events')} e JOIN ${t('tasks')} k ON k.id = e.task_id
            WHERE k.queue IN ($1, $2) GROUP BY e.task_id) h
          GROUP BY h.kinds`,
        [BULK, LIMITED],
      );
      expect(histories.rows).toEqual([{ kinds: 'ENQUEUED,CLAIMED,SUCCEEDED', n: expected }]);

      // --- Exactly once, by the workers: no task reported by two workers, or twice by one;
      // together they report every task, and the database agrees who held each lease.
      for (const r of reports) expect(r.problems, r.workerId).toEqual([]);
      const reportedBy = new Map<number, string[]>();
      for (const r of reports) for (const id of [...r.bulk, ...r.limited] as number[]) reportedBy.set(id, [...(reportedBy.get(id) ?? []), r.workerId]);
      expect([...reportedBy].filter(([, by]) => by.length > 1).slice(0, 5)).toEqual([]);
      expect(reports.flatMap((r) => r.bulk as number[]).sort((a, b) => a - b)).toEqual([...producedBulk].sort((a, b) => a - b));
      expect(reports.flatMap((r) => r.limited as number[]).sort((a, b) => a - b)).toEqual([...producedLimited].sort((a, b) => a - b));
      const holders = await db.query<{ id: string; locked_by: string }>(`SELECT id, locked_by FROM ${t('tasks')} WHERE queue IN ($1, $2)`, [BULK, LIMITED]);
      expect(holders.rows.filter((r) => reportedBy.get(Number(r.id))?.[0] !== r.locked_by).slice(0, 5)).toEqual([]);
      // Every worker took part, and the limited queue was claimed through every instance.
      for (const r of reports) expect(r.bulk.length, r.workerId).toBeGreaterThan(0);
      const limitedInstances = new Set(reports.flatMap((r, i) => (r.limited.length > 0 ? [workerInstance[i]] : [])));
      expect(limitedInstances.size).toBe(3);

      // --- The concurrency limit, as recorded inside the database: never above 3, and 3 reached.
      const audit = (
        await db.query(`SELECT max(running)::int AS max, count(*)::int AS n, count(*) FILTER (WHERE running = $1)::int AS at_limit FROM ${t('limit_audit')}`, [LIMIT])
      ).rows[0];
      expect(audit.max).toBeLessThanOrEqual(LIMIT);
      expect(audit.max).toBe(LIMIT);
      // Each limited task was inserted, claimed and completed under the trigger's eye.
      expect(audit.n).toBeGreaterThanOrEqual(3 * LIMITED_TASKS);
      // And the trigger does see a breach: four of them RUNNING at once (rolled back) reads 4.
      const probe = await db.connect();
      try {
        await probe.query('BEGIN');
        await probe.query(`UPDATE ${t('tasks')} SET status = 'RUNNING' WHERE id = ANY($1::bigint[])`, [producedLimited.slice(0, LIMIT + 1)]);
        expect((await probe.query(`SELECT max(running)::int AS max FROM ${t('limit_audit')}`)).rows[0].max).toBe(LIMIT + 1);
      } finally {
        await probe.query('ROLLBACK');
        probe.release();
      }

      // --- Subscribers on every instance: exactly the outbox's task events (pos 1..N minus
      // the internal LOG_ADDED / WORKER_UPDATED rows), in order, with no gap and no
      // duplicate; hence the same sequence on every instance.
      expect(want.length).toBeGreaterThanOrEqual(3 * expected);
      for (const [i, events] of seen.entries()) {
        expect(firstDifference(subscribers[i]!.label, events.filter((e) => e.pos <= lastPos), want)).toBeNull();
      }

      // --- The moved subscriber: A's part then C's part is the whole sequence, nothing
      // missed or repeated at the seam. It moved while writes went on: C's part holds
      // events committed after the move.
      expect(partC[0]!.pos).toBeGreaterThan(movedAt);
      expect(firstDifference('moved subscriber', [...partA, ...partC].filter((e) => e.pos <= lastPos), want)).toBeNull();
      expect(partC.some((e) => e.pos > outboxAtMove)).toBe(true);

      // --- The schedule: one task per due time on its grid, from the first due time to the
      // last one before it was disabled; none missed (folded), none twice, none after.
      const fires = await db.query<{ id: string; key: string }>(`SELECT id, idempotency_key AS key FROM ${t('tasks')} WHERE correlation_id = $1`, [
        `schedule:${SCHEDULE}`,
      ]);
      const fireTasks = new Set(fires.rows.map((r) => Number(r.id)));
      // One enqueue per fire: a second scheduler firing the same due time would find the key
      // taken (created = false, no event), so count the ENQUEUED rows too.
      expect(outbox.filter((r) => r.kind === 'ENQUEUED' && fireTasks.has(r.taskId!)).length).toBe(fires.rows.length);
      const fireTimes = fires.rows.map((r) => Date.parse(r.key.slice(`schedule:${SCHEDULE}:`.length))).sort((a, b) => a - b);
      expect(new Set(fireTimes).size).toBe(fireTimes.length);
      expect(fireTimes[0]).toBe(firstFire);
      expect(fireTimes.filter((f) => (f - anchor) % 1000 !== 0)).toEqual([]);
      expect(fireTimes.filter((f, i) => i > 0 && f - fireTimes[i - 1]! !== 1000).map((f) => new Date(f).toISOString())).toEqual([]);
      // Every due time up to two seconds before the disable fired; none after it.
      expect(fireTimes.at(-1)!).toBeGreaterThanOrEqual(disableFrom - 2000);
      expect(fireTimes.at(-1)!).toBeLessThanOrEqual(disabledAt);
      expect(fireTimes.length).toBeGreaterThanOrEqual(5);
      const logs = await db.query<{ message: string }>(
        `SELECT l.message FROM ${t('task_logs')} l JOIN ${t('tasks')} k ON k.id = l.task_id WHERE k.correlation_id = $1`,
        [`schedule:${SCHEDULE}`],
      );
      expect(logs.rows.length).toBe(fireTimes.length);
      expect(logs.rows.filter((l) => /missed/.test(l.message))).toEqual([]);
      const schedRow = (await db.query(`SELECT last_run_at FROM ${t('schedules')} WHERE name = $1`, [SCHEDULE])).rows[0];
      expect(Number(schedRow.last_run_at)).toBe(fireTimes.at(-1));

      const perSecond = Math.round(TASKS / (drainedMs / 1000));
      console.log(
        `multi-instance: ${TASKS} tasks (+${LIMITED_TASKS} limited) drained in ${Math.round(drainedMs)} ms (${perSecond} tasks/s); ` +
          `outbox ${lastPos} rows (${['WORKER_UPDATED', 'LOG_ADDED'].map((k) => `${outbox.filter((r) => r.kind === k).length} ${k}`).join(', ')}), ` +
          `${want.length} task events seen by each instance (${seen.map((s) => s.length).join(' / ')}), ` +
          `subscribers caught up at ${Math.round(caughtUpMs)} ms; moved at cursor ${movedAt} (outbox at ${outboxAtMove}, ` +
          `${partA.length} on A + ${partC.length} on C, producers done at move: ${producersDoneAtMove}); ` +
          `limit audit ${audit.n} rows, max ${audit.max}, at limit ${audit.at_limit}; ${fireTimes.length} schedule fires; ` +
          `producers took ${made.map((m) => m.ms).join(' / ')} ms; per worker ${reports.map((r) => `${r.workerId} ${r.bulk.length}+${r.limited.length}`).join(', ')}`,
      );
    } finally {
      stage('end');
      console.log(`multi-instance stages: ${stages.join(', ')}`);
      await killAll();
    }
  }, 300_000);
});
