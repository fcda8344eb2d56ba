/**
 * Race suite (driver-neutral): two stores on one database race each other; every round
 * starts both operations before awaiting either, on fresh tasks, and checks the outcome
 * users are promised. On SQLite the writers are serialized by BEGIN IMMEDIATE, so these
 * races check the promised outcome under any interleaving of whole transactions; on
 * PostgreSQL the same suite exercises true concurrency.
 *
 * Schedule ticks: both stores fire the same due schedules at the same instant.
 */
import { describe, expect, it } from 'vitest';
import { Clock, at, iso } from '../helpers/drivers.js';
import { count, inRounds, outbox, race, valueOf } from './race.js';

describe('fireDueSchedules against fireDueSchedules', () => {
  it('exactly one task per fire, whichever store fires it; missed fires fold into one task', async () => {
    const t0 = at('2026-05-01T12:00:00Z');
    const fires = new Map<string, number>(); // key -> task id
    let next = { minute: t0 + 60_000, five: t0 + 300_000 };
    const { a, b } = await inRounds({ clock: new Clock(t0) }, async ({ a, b, clock }, round) => {
      if (round === 0) {
        await a.store.upsertSchedule({ name: 'minute', intervalSeconds: 60, task: { type: 'minute', payload: {} } });
        await b.store.upsertSchedule({ name: 'five', cron: '*/5 * * * *', task: { type: 'five', payload: {} } });
      }
      // Mostly one minute at a time; every seventh round jumps three minutes (two fires missed).
      clock.advance(round % 7 === 6 ? 180_000 : 60_000);
      const mark = await a.store.lastEventId();
      const [fa, fb] = (await race(round, () => a.store.fireDueSchedules(), () => b.store.fireDueSchedules())).map(valueOf);
      const fired = [...fa!.fired, ...fb!.fired];
      expect([...fa!.failed, ...fb!.failed]).toEqual([]);
      // What was due, and how many fires of it were missed.
      const due: { schedule: string; fireAt: number; missed: number }[] = [];
      for (const [name, step] of [
        ['minute', 60_000],
        ['five', 300_000],
      ] as const) {
        if (next[name] > clock.t) continue;
        const n = Math.floor((clock.t - next[name]) / step) + 1;
        due.push({ schedule: name, fireAt: next[name], missed: n - 1 });
        next = { ...next, [name]: next[name] + n * step };
      }
      // Broken (both read the schedule as due and both enqueued), a fire would be reported twice.
      const byName = (x: { schedule: string }, y: { schedule: string }) => x.schedule.localeCompare(y.schedule);
      expect(fired.map(({ schedule, fireAt, missed }) => ({ schedule, fireAt, missed })).sort(byName), `round ${round}`).toEqual(due.sort(byName));
      const events = await outbox(a.store, mark);
      expect(count(events, 'ENQUEUED')).toBe(due.length);
      for (const f of fired) {
        const key = `schedule:${f.schedule}:${iso(f.fireAt)}`;
        expect(fires.has(key)).toBe(false);
        fires.set(key, f.taskId);
        expect((await b.store.getTaskByIdempotencyKey(key))!.id).toBe(f.taskId);
        expect((await a.store.listLogs(f.taskId)).items).toHaveLength(1);
      }
    });
    for (const name of ['minute', 'five']) {
      const tasks = (await a.store.listTasks({ filter: { correlationId: `schedule:${name}` }, first: 500 })).items.map((i) => i.node);
      expect(new Set(tasks.map((t) => t.idempotencyKey)).size).toBe(tasks.length);
      expect(tasks.length).toBe([...fires.keys()].filter((k) => k.startsWith(`schedule:${name}:`)).length);
    }
    const schedules = await b.store.listSchedules();
    expect(schedules.map((s) => [s.name, s.nextRunAt])).toEqual([
      ['five', next.five],
      ['minute', next.minute],
    ]);
  });
});
