/**
 * Conformance suite: this suite is the definition of a driver; it runs on every driver
 * through test/helpers/drivers.ts (TASKWIRE_TEST_DRIVER picks it).
 *
 * Schedules across restarts: the store is closed and the same database reopened (a new
 * store) between fires. Each fire is enqueued exactly once, and fires missed while
 * nothing was running are caught up once, with a WARN log that says so.
 */
import { describe, expect, it } from 'vitest';
import type { TaskStore } from '../../../src/store/index.js';
import { Clock, at, iso, makeDatabase, type TestDatabase } from '../../helpers/drivers.js';

/** Opens the database with the clock; the caller closes it (that is the point of these tests). */
const open = async (database: TestDatabase, clock: Clock) => (await database.open({ clock })).store;

async function keysOf(store: TaskStore, schedule: string): Promise<string[]> {
  const page = await store.listTasks({ filter: { correlationId: `schedule:${schedule}` }, orderBy: { field: 'CREATED_AT', direction: 'ASC' }, first: 500 });
  return page.items.map((i) => i.node.idempotencyKey!);
}

async function logsOf(store: TaskStore, taskId: number) {
  return (await store.listLogs(taskId)).items.map((i) => ({ level: i.node.level, message: i.node.message }));
}

describe('restarts between fires', () => {
  it('each fire is enqueued exactly once however often the store is closed and reopened', async () => {
    const database = await makeDatabase();
    const t0 = at('2026-02-01T10:00:00Z');
    const clock = new Clock(t0);
    let store = await open(database, clock);
    await store.upsertSchedule({ name: 'minute', intervalSeconds: 60, task: { type: 'm', payload: {} } });
    await store.upsertSchedule({ name: 'five', cron: '*/5 * * * *', task: { type: 'f', payload: {} } });
    await store.close();

    // Every 20 seconds of clock: a new process opens the file, fires (twice, as two ticks
    // would), and goes away again. Every third "process" is a rolling restart: the next one
    // opens the file before this one closes, and both fire at the same instant.
    let overlap: TaskStore | null = null;
    for (let step = 1; step <= 60; step++) {
      clock.t = t0 + step * 20_000;
      store = await open(database, clock);
      await store.fireDueSchedules();
      if (overlap) {
        await overlap.fireDueSchedules();
        await overlap.close();
        overlap = null;
      }
      await store.fireDueSchedules();
      if (step % 3 === 0) overlap = store;
      else await store.close();
    }
    if (overlap) await overlap.close();

    store = await open(database, clock);
    try {
      const minutes = Array.from({ length: 20 }, (_, i) => `schedule:minute:${iso(t0 + (i + 1) * 60_000)}`);
      const fives = Array.from({ length: 4 }, (_, i) => `schedule:five:${iso(t0 + (i + 1) * 300_000)}`);
      expect(await keysOf(store, 'minute')).toEqual(minutes);
      expect(await keysOf(store, 'five')).toEqual(fives);
      // None of them was a catch-up: every fire ran on time.
      for (const key of [...minutes, ...fives]) {
        const task = (await store.getTaskByIdempotencyKey(key))!;
        expect(await logsOf(store, task.id)).toEqual([{ level: 'INFO', message: expect.stringMatching(/^enqueued by schedule \w+ for [^;]+$/) }]);
      }
      const [five, minute] = await store.listSchedules();
      expect(minute).toMatchObject({ lastRunAt: t0 + 1_200_000, nextRunAt: t0 + 1_260_000 });
      expect(five).toMatchObject({ lastRunAt: t0 + 1_200_000, nextRunAt: t0 + 1_500_000 });
    } finally {
      await store.close();
    }
  });

  it('a reopened store keeps the interval grid and the next fire it had', async () => {
    const database = await makeDatabase();
    const created = at('2026-02-01T10:00:00.250Z');
    const clock = new Clock(created);
    let store = await open(database, clock);
    await store.upsertSchedule({ name: 'g', intervalSeconds: 45, task: { type: 'g', payload: {} } });
    await store.close();
    // Reopened off the grid, and before the first fire: nothing is due, the next fire stands.
    clock.t = created + 44_999;
    store = await open(database, clock);
    expect((await store.fireDueSchedules()).fired).toEqual([]);
    expect((await store.listSchedules())[0]!.nextRunAt).toBe(created + 45_000);
    await store.close();
    clock.t = created + 45_000;
    store = await open(database, clock);
    expect((await store.fireDueSchedules()).fired).toMatchObject([{ fireAt: created + 45_000, missed: 0 }]);
    await store.close();
    // Reopened at the same instant right after the fire: it is not fired again.
    store = await open(database, clock);
    expect((await store.fireDueSchedules()).fired).toEqual([]);
    await store.close();
    clock.t = created + 89_000;
    store = await open(database, clock);
    expect((await store.fireDueSchedules()).fired).toEqual([]);
    clock.t = created + 90_000;
    expect((await store.fireDueSchedules()).fired).toMatchObject([{ fireAt: created + 90_000, missed: 0 }]);
    await store.close();
  });
});

describe('downtime: missed fires are caught up once', () => {
  it('an interval schedule down for five fires runs once, with a WARN log counting the fires it folded', async () => {
    const database = await makeDatabase();
    const t0 = at('2026-02-01T10:00:00Z');
    const clock = new Clock(t0);
    let store = await open(database, clock);
    await store.upsertSchedule({ name: 'poll', intervalSeconds: 60, task: { type: 'poll', payload: {} } });
    clock.t = t0 + 60_000;
    expect((await store.fireDueSchedules()).fired).toHaveLength(1);
    await store.close();

    // Down from +60 s to +390 s: the fires at +120, +180, +240, +300 and +360 were missed.
    clock.t = t0 + 390_000;
    store = await open(database, clock);
    const { fired } = await store.fireDueSchedules();
    expect(fired).toEqual([{ schedule: 'poll', taskId: expect.any(Number), fireAt: t0 + 120_000, missed: 4 }]);
    const task = (await store.getTask(fired[0]!.taskId))!;
    expect(task).toMatchObject({ status: 'QUEUED', createdAt: t0 + 390_000, idempotencyKey: `schedule:poll:${iso(t0 + 120_000)}` });
    expect(await logsOf(store, task.id)).toEqual([
      {
        level: 'WARN',
        message: `enqueued by schedule poll for ${iso(t0 + 120_000)}; 4 fire(s) missed while the scheduler was down were folded into this one`,
      },
    ]);
    expect((await store.listSchedules())[0]).toMatchObject({ lastRunAt: t0 + 120_000, lastTaskId: task.id, nextRunAt: t0 + 420_000 });
    // Once: more ticks, and another restart, at the same instant add nothing.
    expect((await store.fireDueSchedules()).fired).toEqual([]);
    await store.close();
    store = await open(database, clock);
    expect((await store.fireDueSchedules()).fired).toEqual([]);
    expect(await store.countTasks({ correlationId: 'schedule:poll' })).toBe(2);
    // And the schedule is back on its grid, on time.
    clock.t = t0 + 420_000;
    const next = (await store.fireDueSchedules()).fired;
    expect(next).toMatchObject([{ fireAt: t0 + 420_000, missed: 0 }]);
    expect(await logsOf(store, next[0]!.taskId)).toEqual([{ level: 'INFO', message: `enqueued by schedule poll for ${iso(t0 + 420_000)}` }]);
    await store.close();
  });

  it('a cron schedule in a non-UTC zone down across the spring-forward gap counts only the fires that exist', async () => {
    const database = await makeDatabase();
    const clock = new Clock(at('2026-03-28T23:50:00Z'));
    let store = await open(database, clock);
    await store.upsertSchedule({ name: 'half', cron: '*/30 * * * *', timezone: 'Europe/Berlin', task: { type: 'h', payload: {} } });
    await store.close();
    // Down from 00:50 CET to 04:10 CEST: due were 01:00 and 01:30 CET, 03:00 and 03:30 and 04:00 CEST.
    clock.t = at('2026-03-29T02:10:00Z');
    store = await open(database, clock);
    const { fired } = await store.fireDueSchedules();
    expect(fired).toEqual([{ schedule: 'half', taskId: expect.any(Number), fireAt: at('2026-03-29T00:00:00Z'), missed: 4 }]);
    expect((await logsOf(store, fired[0]!.taskId))[0]).toMatchObject({ level: 'WARN', message: expect.stringContaining('4 fire(s) missed') });
    expect((await store.listSchedules())[0]!.nextRunAt).toBe(at('2026-03-29T02:30:00Z'));
    expect(await store.countTasks()).toBe(1);
    await store.close();
  });

  it('a very long downtime is still one task; the log says at least 1000 fires were missed', async () => {
    const database = await makeDatabase();
    const t0 = at('2026-02-01T00:00:00Z');
    const clock = new Clock(t0);
    let store = await open(database, clock);
    await store.upsertSchedule({ name: 'sec', intervalSeconds: 1, task: { type: 's', payload: {} } });
    await store.close();
    clock.t = t0 + 2 * 86_400_000 + 500;
    store = await open(database, clock);
    const { fired } = await store.fireDueSchedules();
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ fireAt: t0 + 1000 });
    expect(fired[0]!.missed).toBeGreaterThanOrEqual(1000);
    expect((await logsOf(store, fired[0]!.taskId))[0]!.message).toContain('at least 1000 fire(s) missed');
    expect((await store.listSchedules())[0]!.nextRunAt).toBe(t0 + 2 * 86_400_000 + 1000);
    expect(await store.countTasks()).toBe(1);
    await store.close();
  });
});
