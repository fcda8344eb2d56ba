/**
 * Conformance suite: this suite is the definition of a driver; it runs on every driver
 * through test/helpers/drivers.ts (TASKWIRE_TEST_DRIVER picks it).
 *
 * Recurring schedules with an injected clock: cron and interval timing, daylight-saving
 * changes in Europe/Berlin, validation, enabling, updating and deleting. Through GraphQL:
 * test/scheduling/schedules.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { FireResult, TaskStore, UpsertScheduleInput } from '../../../src/store/index.js';
import { Clock, at, expectError, iso, makeStore } from '../../helpers/drivers.js';

/** A store of its own with the clock (jitter 0.5). */
const open = async (clock: Clock) => (await makeStore({ clock, random: () => 0.5 })).store;

type Fire = FireResult['fired'][number] & { clock: number };

/** Moves the clock from `from` to `to` in `stepMs` steps, firing due schedules at each step. */
async function drive(store: TaskStore, clock: Clock, from: number, to: number, stepMs = 60_000): Promise<Fire[]> {
  const fires: Fire[] = [];
  for (clock.t = from; clock.t <= to; clock.t += stepMs) {
    for (const f of (await store.fireDueSchedules()).fired) fires.push({ ...f, clock: clock.t });
  }
  return fires;
}

const berlin = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Berlin',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
  timeZoneName: 'shortOffset',
});
/** "29/03, 03:00 GMT+2": the Berlin wall-clock time of an instant, with its offset. */
const local = (ms: number) => berlin.format(new Date(ms));

const job = (name: string, timing: Partial<UpsertScheduleInput>, type = name): UpsertScheduleInput => ({
  name,
  ...timing,
  task: { type, payload: { from: name } },
});

describe('cron schedules', () => {
  it('fire at each matching instant, not a millisecond early, and exactly once each', async () => {
    const clock = new Clock(at('2026-01-05T10:07:30Z'));
    const store = await open(clock);
    const s = await store.upsertSchedule({
      name: 'quarter',
      cron: '*/15 * * * *',
      task: { type: 'report', payload: { kind: 'q' }, queue: 'reports', priority: 7, maxAttempts: 2, timeoutSeconds: 30 },
    });
    expect(s).toMatchObject({ timezone: 'UTC', enabled: true, nextRunAt: at('2026-01-05T10:15:00Z'), lastRunAt: null, lastTaskId: null });

    clock.t = at('2026-01-05T10:14:59.999Z');
    expect((await store.fireDueSchedules()).fired).toEqual([]);
    clock.t = at('2026-01-05T10:15:00Z');
    const first = (await store.fireDueSchedules()).fired;
    expect(first).toEqual([{ schedule: 'quarter', taskId: expect.any(Number), fireAt: at('2026-01-05T10:15:00Z'), missed: 0 }]);
    // Calling again at the same instant (another tick, another process) enqueues nothing.
    expect((await store.fireDueSchedules()).fired).toEqual([]);

    const task = (await store.getTask(first[0]!.taskId))!;
    expect(task).toMatchObject({
      type: 'report',
      payload: { kind: 'q' },
      queue: 'reports',
      priority: 7,
      maxAttempts: 2,
      timeoutSeconds: 30,
      status: 'QUEUED',
      runAfter: clock.t,
      createdAt: clock.t,
      idempotencyKey: 'schedule:quarter:2026-01-05T10:15:00.000Z',
      correlationId: 'schedule:quarter',
    });
    const logs = (await store.listLogs(task.id)).items.map((i) => i.node);
    expect(logs).toMatchObject([{ level: 'INFO', message: 'enqueued by schedule quarter for 2026-01-05T10:15:00.000Z' }]);
    expect((await store.listSchedules())[0]).toMatchObject({
      lastRunAt: at('2026-01-05T10:15:00Z'),
      lastTaskId: task.id,
      nextRunAt: at('2026-01-05T10:30:00Z'),
    });

    // Minute by minute to 11:00: one fire at each quarter hour, none in between.
    const fires = await drive(store, clock, at('2026-01-05T10:16:00Z'), at('2026-01-05T11:00:00Z'));
    expect(fires.map((f) => iso(f.fireAt))).toEqual(['2026-01-05T10:30:00.000Z', '2026-01-05T10:45:00.000Z', '2026-01-05T11:00:00.000Z']);
    for (const f of fires) expect(f.clock).toBe(f.fireAt);
    expect(await store.countTasks({ correlationId: 'schedule:quarter' })).toBe(4);
  });

  it('a six-field expression fires on seconds', async () => {
    const clock = new Clock(at('2026-01-05T10:00:01Z'));
    const store = await open(clock);
    await store.upsertSchedule(job('secs', { cron: '*/20 * * * * *' }));
    const fires = await drive(store, clock, clock.t, at('2026-01-05T10:01:00Z'), 1000);
    expect(fires.map((f) => iso(f.fireAt))).toEqual(['2026-01-05T10:00:20.000Z', '2026-01-05T10:00:40.000Z', '2026-01-05T10:01:00.000Z']);
  });

  it('reads the expression in its time zone', async () => {
    const clock = new Clock(at('2026-01-10T00:00:00Z'));
    const store = await open(clock);
    await store.upsertSchedule(job('ny', { cron: '0 9 * * *', timezone: 'America/New_York' }));
    await store.upsertSchedule(job('tokyo', { cron: '0 9 * * *', timezone: 'Asia/Tokyo' }));
    const fires = await drive(store, clock, clock.t, at('2026-01-11T00:00:00Z'));
    // 09:00 EST is 14:00Z; 09:00 JST is 00:00Z (the creation instant itself is not a fire: the next one is).
    expect(fires.map((f) => [f.schedule, iso(f.fireAt)])).toEqual([
      ['ny', '2026-01-10T14:00:00.000Z'],
      ['tokyo', '2026-01-11T00:00:00.000Z'],
    ]);
  });
});

describe('interval schedules', () => {
  it('fire on a fixed grid from the moment they were created, however late a tick comes', async () => {
    const created = at('2026-01-05T10:00:00.123Z');
    const clock = new Clock(created);
    const store = await open(clock);
    const s = await store.upsertSchedule(job('every90', { intervalSeconds: 90 }));
    expect(s.nextRunAt).toBe(created + 90_000);

    clock.t = created + 89_999;
    expect((await store.fireDueSchedules()).fired).toEqual([]);
    clock.t = created + 90_000;
    expect((await store.fireDueSchedules()).fired.map((f) => f.fireAt)).toEqual([created + 90_000]);
    // A tick 40 s late fires the due run; the next stays on the grid rather than drifting.
    clock.t = created + 180_000 + 40_000;
    expect((await store.fireDueSchedules()).fired).toMatchObject([{ fireAt: created + 180_000, missed: 0 }]);
    expect((await store.listSchedules())[0]!.nextRunAt).toBe(created + 270_000);

    const fires = await drive(store, clock, created + 221_000, created + 600_000, 1000);
    expect(fires.map((f) => (f.fireAt - created) / 1000)).toEqual([270, 360, 450, 540]);
    for (const f of fires) expect(f.clock).toBe(f.fireAt);
  });
});

describe('daylight-saving changes (Europe/Berlin, croner follows Vixie cron)', () => {
  it('spring forward (2026-03-29, 02:00 CET -> 03:00 CEST): a fixed-time job in the gap runs once at the first valid time after it', async () => {
    const clock = new Clock(at('2026-03-27T23:00:00Z'));
    const store = await open(clock);
    await store.upsertSchedule(job('fixed', { cron: '30 2 * * *', timezone: 'Europe/Berlin' }));
    await store.upsertSchedule(job('nine', { cron: '0 9 * * *', timezone: 'Europe/Berlin' }));
    await store.upsertSchedule(job('half', { cron: '*/30 * * * *', timezone: 'Europe/Berlin' }));
    const fires = await drive(store, clock, at('2026-03-27T23:01:00Z'), at('2026-03-30T09:00:00Z'));
    for (const f of fires) expect(f.clock).toBe(f.fireAt);
    const of = (name: string) => fires.filter((f) => f.schedule === name).map((f) => f.fireAt);

    // 02:30 does not exist on the 29th: the job runs at 03:00 CEST, once, and the next day at 02:30 again.
    expect(of('fixed').map(local)).toEqual(['28/03, 02:30 GMT+1', '29/03, 03:00 GMT+2', '30/03, 02:30 GMT+2']);
    expect(of('fixed').map(iso)).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
    // Outside the gap a fixed time keeps its wall-clock time: one UTC hour earlier from the 29th.
    expect(of('nine').map(iso)).toEqual(['2026-03-28T08:00:00.000Z', '2026-03-29T07:00:00.000Z', '2026-03-30T07:00:00.000Z']);
    // An interval job skips the times that do not exist: 01:30 CET is followed by 03:00 CEST.
    const night = of('half').filter((t) => t >= at('2026-03-29T00:00:00Z') && t <= at('2026-03-29T01:30:00Z'));
    expect(night.map(local)).toEqual(['29/03, 01:00 GMT+1', '29/03, 01:30 GMT+1', '29/03, 03:00 GMT+2', '29/03, 03:30 GMT+2']);
    // ... which in real time is still one run every 30 minutes, none twice.
    const all = of('half');
    for (let i = 1; i < all.length; i++) expect(all[i]! - all[i - 1]!).toBe(30 * 60_000);
    expect(new Set(all).size).toBe(all.length);
    expect(await store.countTasks({ correlationId: 'schedule:fixed' })).toBe(3);
  });

  it('fall back (2026-10-25, 03:00 CEST -> 02:00 CET): a fixed-time job runs once in the repeated hour, an interval job on both passes', async () => {
    const clock = new Clock(at('2026-10-23T22:00:00Z'));
    const store = await open(clock);
    await store.upsertSchedule(job('fixed', { cron: '30 2 * * *', timezone: 'Europe/Berlin' }));
    await store.upsertSchedule(job('half', { cron: '*/30 * * * *', timezone: 'Europe/Berlin' }));
    await store.upsertSchedule(job('grid', { intervalSeconds: 1800, timezone: 'Europe/Berlin' }));
    const fires = await drive(store, clock, at('2026-10-23T22:01:00Z'), at('2026-10-26T08:00:00Z'));
    for (const f of fires) expect(f.clock).toBe(f.fireAt);
    const of = (name: string) => fires.filter((f) => f.schedule === name).map((f) => f.fireAt);

    // 02:30 happens twice on the 25th; the job runs at the first one only.
    expect(of('fixed').map(local)).toEqual(['24/10, 02:30 GMT+2', '25/10, 02:30 GMT+2', '26/10, 02:30 GMT+1']);
    expect(of('fixed').map(iso)).toEqual(['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
    // '*/30' runs through the repeated hour twice: 02:00 and 02:30 in summer time, then again in winter time.
    const night = of('half').filter((t) => t >= at('2026-10-24T23:30:00Z') && t <= at('2026-10-25T02:30:00Z'));
    expect(night.map(local)).toEqual([
      '25/10, 01:30 GMT+2',
      '25/10, 02:00 GMT+2',
      '25/10, 02:30 GMT+2',
      '25/10, 02:00 GMT+1',
      '25/10, 02:30 GMT+1',
      '25/10, 03:00 GMT+1',
      '25/10, 03:30 GMT+1',
    ]);
    // Each of those fires is its own task: the idempotency keys are UTC instants, so the
    // two 02:00s do not collide.
    const keys = (await store.listTasks({ filter: { correlationId: 'schedule:half' }, first: 500 })).items.map((i) => i.node.idempotencyKey);
    expect(new Set(keys).size).toBe(of('half').length);
    expect(keys).toContain('schedule:half:2026-10-25T00:00:00.000Z');
    expect(keys).toContain('schedule:half:2026-10-25T01:00:00.000Z');
    // An interval in seconds is elapsed time: the change of clocks does not touch it.
    const grid = of('grid');
    expect(grid.length).toBeGreaterThan(100);
    for (let i = 1; i < grid.length; i++) expect(grid[i]! - grid[i - 1]!).toBe(1_800_000);
  });
});

describe('validation', () => {
  const base = { name: 'bad', task: { type: 'x', payload: {} } };
  const cases: { what: string; input: Record<string, unknown>; field: string; says: RegExp }[] = [
    { what: 'a value out of range', input: { cron: '61 * * * *' }, field: 'cron', says: /cron "61 \* \* \* \*" is not valid: .*minute.*61/ },
    { what: 'garbage', input: { cron: 'every day' }, field: 'cron', says: /cron "every day" must have 5 fields/ },
    { what: 'illegal characters', input: { cron: 'a b c d e' }, field: 'cron', says: /cron "a b c d e" is not valid: .*illegal characters/ },
    { what: 'too many fields', input: { cron: '0 0 0 1 1 * 2030' }, field: 'cron', says: /must have 5 fields .* or 6/ },
    { what: 'an unknown time zone', input: { cron: '0 * * * *', timezone: 'Mars/Olympus' }, field: 'timezone', says: /timezone "Mars\/Olympus" is not an IANA time zone/ },
    { what: 'a time zone on an interval too', input: { intervalSeconds: 60, timezone: 'Nowhere' }, field: 'timezone', says: /timezone "Nowhere"/ },
    { what: 'both cron and interval', input: { cron: '* * * * *', intervalSeconds: 5 }, field: 'intervalSeconds', says: /exactly one of cron and intervalSeconds/ },
    { what: 'neither cron nor interval', input: {}, field: 'cron', says: /exactly one of cron and intervalSeconds/ },
    { what: 'a zero interval', input: { intervalSeconds: 0 }, field: 'intervalSeconds', says: /intervalSeconds must be between 1/ },
    { what: 'a fractional interval', input: { intervalSeconds: 1.5 }, field: 'intervalSeconds', says: /intervalSeconds must be an integer/ },
  ];
  for (const c of cases) {
    it(`${c.what} is a VALIDATION error naming the problem`, async () => {
      const store = await open(new Clock(at('2026-01-01T00:00:00Z')));
      const err = await expectError(store.upsertSchedule({ ...base, ...c.input } as UpsertScheduleInput), 'VALIDATION');
      expect(err.message).toMatch(c.says);
      expect(err.details).toMatchObject({ field: c.field });
      expect(await store.listSchedules()).toEqual([]);
    });
  }

  it('a bad task template is refused too, and nothing is stored', async () => {
    const store = await open(new Clock(at('2026-01-01T00:00:00Z')));
    await expectError(store.upsertSchedule({ name: 's', intervalSeconds: 60, task: { type: '', payload: {} } }), 'VALIDATION');
    await expectError(store.upsertSchedule({ name: 's', intervalSeconds: 60, task: { type: 'x', payload: [1] } }), 'VALIDATION');
    await expectError(store.upsertSchedule({ name: 's', intervalSeconds: 60, task: { type: 'x', payload: {}, maxAttempts: 0 } }), 'VALIDATION');
    await expectError(store.upsertSchedule({ name: '', intervalSeconds: 60, task: { type: 'x', payload: {} } }), 'VALIDATION');
    expect(await store.listSchedules()).toEqual([]);
  });

  it('setScheduleEnabled of an unknown schedule is NOT_FOUND; deleteSchedule of one is false', async () => {
    const store = await open(new Clock(at('2026-01-01T00:00:00Z')));
    await expectError(store.setScheduleEnabled('ghost', true), 'NOT_FOUND');
    expect(await store.deleteSchedule('ghost')).toBe(false);
  });
});

describe('enable, disable, update, delete', () => {
  it('a disabled schedule does not fire; setScheduleEnabled(true) resumes from now without catching up', async () => {
    const clock = new Clock(at('2026-01-01T00:00:00Z'));
    const store = await open(clock);
    await store.upsertSchedule(job('h', { cron: '0 * * * *' }));
    clock.t = at('2026-01-01T01:00:00Z');
    expect((await store.fireDueSchedules()).fired).toHaveLength(1);
    clock.t = at('2026-01-01T01:30:00Z');
    expect((await store.setScheduleEnabled('h', false)).enabled).toBe(false);
    expect(await drive(store, clock, at('2026-01-01T01:31:00Z'), at('2026-01-01T05:30:00Z'))).toEqual([]);
    const back = await store.setScheduleEnabled('h', true);
    expect(back).toMatchObject({ enabled: true, nextRunAt: at('2026-01-01T06:00:00Z') });
    expect((await store.fireDueSchedules()).fired).toEqual([]);
    clock.t = at('2026-01-01T06:00:00Z');
    expect((await store.fireDueSchedules()).fired).toMatchObject([{ fireAt: at('2026-01-01T06:00:00Z'), missed: 0 }]);
    expect(await store.countTasks()).toBe(2);
  });

  it('re-enabling with upsertSchedule also resumes from now: fires missed while disabled are not caught up', async () => {
    const clock = new Clock(at('2026-01-01T00:00:00Z'));
    const store = await open(clock);
    const input = job('h', { cron: '0 * * * *' });
    await store.upsertSchedule(input);
    clock.t = at('2026-01-01T01:00:00Z');
    await store.fireDueSchedules();
    clock.t = at('2026-01-01T01:30:00Z');
    await store.upsertSchedule({ ...input, enabled: false });
    clock.t = at('2026-01-01T05:30:00Z');
    const back = await store.upsertSchedule({ ...input, enabled: true });
    // Same as setScheduleEnabled(true): the next fire is the next one from now, not 02:00
    // (which was skipped while the schedule was off, not missed while the scheduler was down).
    expect(back.nextRunAt).toBe(at('2026-01-01T06:00:00Z'));
    expect((await store.fireDueSchedules()).fired).toEqual([]);
    expect(await store.countTasks()).toBe(1);
  });

  it('an update with the same timing keeps the next fire and applies the new template to it; a new timing starts over', async () => {
    const clock = new Clock(at('2026-01-01T00:00:00Z'));
    const store = await open(clock);
    await store.upsertSchedule({ name: 's', cron: '0 * * * *', task: { type: 'old', payload: { v: 1 } } });
    clock.t = at('2026-01-01T00:40:00Z');
    const same = await store.upsertSchedule({ name: 's', cron: '0 * * * *', task: { type: 'new', payload: { v: 2 }, priority: 3 } });
    expect(same.nextRunAt).toBe(at('2026-01-01T01:00:00Z'));
    clock.t = at('2026-01-01T01:00:00Z');
    const [f] = (await store.fireDueSchedules()).fired;
    expect(await store.getTask(f!.taskId)).toMatchObject({ type: 'new', payload: { v: 2 }, priority: 3 });

    clock.t = at('2026-01-01T01:10:00Z');
    const changed = await store.upsertSchedule({ name: 's', cron: '*/5 * * * *', timezone: 'Europe/Berlin', task: { type: 'new', payload: {} } });
    expect(changed.nextRunAt).toBe(at('2026-01-01T01:15:00Z'));
    const ivl = await store.upsertSchedule({ name: 's', intervalSeconds: 600, task: { type: 'new', payload: {} } });
    expect(ivl).toMatchObject({ cron: null, intervalSeconds: 600, nextRunAt: at('2026-01-01T01:20:00Z') });
    expect(await store.listSchedules()).toHaveLength(1);
  });

  it('a deleted schedule fires no more; its tasks stay', async () => {
    const clock = new Clock(at('2026-01-01T00:00:00Z'));
    const store = await open(clock);
    await store.upsertSchedule(job('d', { intervalSeconds: 60 }));
    await drive(store, clock, clock.t, at('2026-01-01T00:02:00Z'));
    expect(await store.countTasks()).toBe(2);
    expect(await store.deleteSchedule('d')).toBe(true);
    expect(await drive(store, clock, clock.t, at('2026-01-01T00:10:00Z'))).toEqual([]);
    expect(await store.listSchedules()).toEqual([]);
    expect(await store.countTasks()).toBe(2);
  });
});
