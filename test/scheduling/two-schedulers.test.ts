/**
 * SQLite-only (OS processes sharing one database file). Two server processes on one
 * database file fire the same schedules: each fire time is enqueued exactly once. The
 * same race between two stores on one database, on every driver: test/races/schedules.test.ts.
 *
 * 1. Deterministic: two OS processes (fixtures/scheduler-proc.ts) share a fake clock that
 *    the parent sets with TICK. Some ticks go to both at once (they race for the write
 *    lock, each calling fireDueSchedules three times), some to one and then the other.
 *    Some ticks jump several fires ahead (downtime), which must fold into one task.
 * 2. Real servers: two buildApp processes (fixtures/server-proc.ts) with the real clock and
 *    a 50 ms sweep tick run a 1-second interval schedule for a few seconds.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FireResult } from '../../src/store/index.js';
import { SqliteTaskStore } from '../../src/store/sqlite/store.js';
import { Child, iso, makeTempDir, tempDir, until } from './harness.js';

type Fire = FireResult['fired'][number];

/** The fires a grid schedule (step ms, first fire at anchor + step) must produce for these ticks. */
function expectedFires(anchor: number, step: number, ticks: readonly number[]): { fireAt: number; missed: number; tick: number }[] {
  const out: { fireAt: number; missed: number; tick: number }[] = [];
  let next = anchor + step;
  for (const t of ticks) {
    if (t < next) continue;
    const due = Math.floor((t - next) / step) + 1;
    out.push({ fireAt: next, missed: due - 1, tick: t });
    next += due * step;
  }
  return out;
}

async function tasksOf(store: SqliteTaskStore, schedule: string) {
  const page = await store.listTasks({ filter: { correlationId: `schedule:${schedule}` }, orderBy: { field: 'CREATED_AT', direction: 'ASC' }, first: 500 });
  return page.items.map((i) => i.node);
}

describe('two scheduler processes on one file, fake clock', () => {
  it('every fire time is enqueued exactly once, by exactly one of them; missed fires fold into one task', async () => {
    const dir = tempDir('two-sched');
    const path = join(dir, 'q.db');
    const T0 = Date.UTC(2026, 4, 1, 12, 0, 0); // a multiple of 5 s, so '*/5 * * * * *' sits on the same grid
    const setup = new SqliteTaskStore({ path, now: () => T0, tailIntervalMs: 0 });
    await setup.upsertSchedule({ name: 'sec', intervalSeconds: 1, task: { type: 'sec', payload: {} } });
    await setup.upsertSchedule({ name: 'five', cron: '*/5 * * * * *', task: { type: 'five', payload: {} } });
    await setup.close();

    const procs = [new Child('scheduler-proc.ts', [path]), new Child('scheduler-proc.ts', [path])];
    await Promise.all(procs.map((p) => p.line((l) => l === 'READY', 45_000)));

    // 60 ticks: mostly one second apart, every seventh a jump of 3.5 s (two or three fires missed).
    const ticks: number[] = [];
    let t = T0;
    for (let i = 1; i <= 60; i++) ticks.push((t += i % 7 === 0 ? 3_500 : 1_000));
    const fired: Fire[][] = [[], []];
    const tickOf = new Map<string, number>();
    for (const [i, tick] of ticks.entries()) {
      const mode = i % 3; // 0: both at once; 1: process 0 first; 2: process 1 first
      const got = (p: number) =>
        procs[p]!.line((l) => l.startsWith(`FIRED ${tick} `)).then((l) => {
          const list = JSON.parse(l.slice(`FIRED ${tick} `.length)) as Fire[];
          for (const f of list) tickOf.set(`${f.schedule}:${f.fireAt}`, tick);
          fired[p]!.push(...list);
          return list;
        });
      if (mode === 0) {
        for (const p of procs) p.send(`TICK ${tick} 3`);
        await Promise.all([got(0), got(1)]);
      } else {
        const [first, second] = mode === 1 ? [0, 1] : [1, 0];
        procs[first]!.send(`TICK ${tick} 1`);
        await got(first);
        procs[second]!.send(`TICK ${tick} 2`);
        // The second process sees the first one's fires: it must not enqueue them again.
        expect(await got(second), `tick ${i}: the second process fired again`).toEqual([]);
      }
    }
    for (const p of procs) p.send('EXIT');
    await Promise.all(procs.map((p) => p.line((l) => l === 'BYE')));
    for (const p of procs) expect(p.lines.filter((l) => l.startsWith('ERROR')), p.stderr).toEqual([]);

    // Both processes took part.
    expect(fired[0]!.length).toBeGreaterThan(0);
    expect(fired[1]!.length).toBeGreaterThan(0);
    const all = [...fired[0]!, ...fired[1]!];
    // No fire was reported by both processes.
    expect(new Set(all.map((f) => `${f.schedule}:${f.fireAt}`)).size).toBe(all.length);

    const check = new SqliteTaskStore({ path, tailIntervalMs: 0 });
    try {
      for (const [name, step] of [
        ['sec', 1_000],
        ['five', 5_000],
      ] as const) {
        const want = expectedFires(T0, step, ticks);
        const mine = all.filter((f) => f.schedule === name).sort((a, b) => a.fireAt - b.fireAt);
        expect(mine.map((f) => ({ fireAt: f.fireAt, missed: f.missed })), name).toEqual(want.map(({ fireAt, missed }) => ({ fireAt, missed })));
        // Each fire happened at the tick it was due, not later.
        expect(mine.map((f) => tickOf.get(`${name}:${f.fireAt}`))).toEqual(want.map((w) => w.tick));
        // In the database: one task per distinct fire time, with the fire time in its key.
        const tasks = await tasksOf(check, name);
        expect(tasks.map((x) => x.idempotencyKey), name).toEqual(want.map((w) => `schedule:${name}:${iso(w.fireAt)}`));
        expect(new Set(tasks.map((x) => x.idempotencyKey)).size).toBe(tasks.length);
        expect(tasks.map((x) => x.id).sort((a, b) => a - b)).toEqual(mine.map((f) => f.taskId).sort((a, b) => a - b));
        // The catch-ups say so, once each.
        for (const [k, w] of want.entries()) {
          const logs = (await check.listLogs(tasks[k]!.id)).items.map((x) => x.node);
          expect(logs).toHaveLength(1);
          expect(logs[0]!.level).toBe(w.missed > 0 ? 'WARN' : 'INFO');
          if (w.missed > 0) expect(logs[0]!.message).toContain(`${w.missed} fire(s) missed`);
        }
      }
      // The jumps really did fold fires (the test covers catch-up under contention).
      expect(all.some((f) => f.missed >= 2)).toBe(true);
      const schedules = await check.listSchedules();
      expect(schedules.map((s) => s.nextRunAt! > ticks.at(-1)!)).toEqual([true, true]);
    } finally {
      await check.close();
    }
  }, 90_000);
});

// The two servers start when the file starts, so that their (slow) start overlaps the test above.
const serversDir = makeTempDir('two-servers');
const serversDb = join(serversDir.dir, 'q.db');
let servers: Child[] = [];
beforeAll(async () => {
  await new SqliteTaskStore({ path: serversDb, tailIntervalMs: 0 }).close(); // created and migrated once, up front
  servers = [new Child('server-proc.ts', [serversDb, '50'], true), new Child('server-proc.ts', [serversDb, '50'], true)];
});
afterAll(() => {
  for (const p of servers) p.kill();
  serversDir.remove();
});

describe('two real servers on one file, real clock', () => {
  it("both servers' scheduler ticks fire a 1-second schedule: every fire time once, none lost, no errors", async () => {
    await Promise.all(servers.map((p) => p.line((l) => l.startsWith('READY '), 60_000)));
    const setup = new SqliteTaskStore({ path: serversDb, tailIntervalMs: 0 });
    try {
      const created = Date.now();
      const s = await setup.upsertSchedule({ name: 'beat', intervalSeconds: 1, task: { type: 'beat', payload: {} } });
      const anchor = s.nextRunAt! - 1000;
      expect(Math.abs(anchor - created)).toBeLessThan(1000);
      // Both servers are up: let them race for four fires.
      await until(async () => (await setup.countTasks({ correlationId: 'schedule:beat' })) >= 4, 'four fires', 20_000, 50);
      for (const p of servers) p.send('STOP');
      await Promise.all(servers.map((p) => p.line((l) => l === 'STOPPED')));

      for (const p of servers) {
        expect(p.lines.filter((l) => l.startsWith('ERROR')), p.stderr).toEqual([]);
        // A fire raced by both would surface as a failed scheduler tick (a unique-key conflict).
        const warnings = p.lines.filter((l) => l.startsWith('{') && (JSON.parse(l) as { level: number }).level >= 40);
        expect(warnings).toEqual([]);
      }
      const tasks = await tasksOf(setup, 'beat');
      expect(tasks.length).toBeGreaterThanOrEqual(4);
      const fireTimes = tasks.map((x) => Date.parse(x.idempotencyKey!.slice('schedule:beat:'.length)));
      // Every fire time sits on the schedule's grid, in order, each once.
      const ks = fireTimes.map((f) => (f - anchor) / 1000);
      for (const k of ks) expect(Number.isInteger(k)).toBe(true);
      for (let i = 1; i < ks.length; i++) expect(ks[i]!).toBeGreaterThan(ks[i - 1]!);
      // None lost: each grid point up to the last fire ran, or was folded into the next task
      // (a tick that came late, e.g. on a busy machine), and that task's log says how many.
      let accounted = 0;
      for (const [i, task] of tasks.entries()) {
        const message = (await setup.listLogs(task.id)).items[0]!.node.message;
        const missed = Number(/; (\d+) fire\(s\) missed/.exec(message)?.[1] ?? 0);
        expect(ks[i], `task ${i}: ${message}`).toBe(accounted + 1);
        accounted += 1 + missed;
      }
      const schedule = (await setup.listSchedules())[0]!;
      expect(schedule.lastRunAt).toBe(fireTimes.at(-1));
      expect(schedule.lastTaskId).toBe(tasks.at(-1)!.id);
      expect(schedule.nextRunAt).toBe(anchor + (accounted + 1) * 1000);
    } finally {
      await setup.close();
    }
  }, 90_000);
});
