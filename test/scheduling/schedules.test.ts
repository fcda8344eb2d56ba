/**
 * Recurring schedules through the GraphQL surface (in-process, yoga.fetch), and the
 * server's sweep tick firing them. The engine's schedule rules, with an injected clock,
 * are in the conformance suite: test/engine/conformance/schedules.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { UpsertScheduleInput } from '../../src/store/index.js';
import { makeApp, stopApps } from '../helpers/app.js';
import { Clock, at, until } from './harness.js';

afterEach(stopApps);

const job = (name: string, timing: Partial<UpsertScheduleInput>, type = name): UpsertScheduleInput => ({
  name,
  ...timing,
  task: { type, payload: { from: name } },
});

describe('schedules through GraphQL', () => {
  const UPSERT = `mutation($input: UpsertScheduleInput!) {
    upsertSchedule(input: $input) { id name cron intervalSeconds timezone enabled taskType taskTemplate nextRunAt lastRunAt lastTask { id } }
  }`;
  const LIST = `{ schedules { name enabled nextRunAt lastRunAt lastTask { id status type idempotencyKey logs { edges { node { level message } } } } } }`;

  it('a bad expression, time zone or interval is extensions.code VALIDATION with a message that names it', async () => {
    const t = await makeApp({ store: { now: () => at('2026-01-01T00:00:00Z') } });
    const task = { type: 'x', payload: {} };
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ cron: '61 * * * *' }, /cron "61 \* \* \* \*" is not valid/],
      [{ cron: 'nope' }, /cron "nope" must have 5 fields/],
      [{ cron: '0 * * * *', timezone: 'Europe/Atlantis' }, /timezone "Europe\/Atlantis" is not an IANA time zone/],
      [{ intervalSeconds: 0 }, /intervalSeconds/],
      [{ cron: '0 * * * *', intervalSeconds: 60 }, /exactly one of cron and intervalSeconds/],
    ];
    for (const [timing, says] of bad) {
      const r = await t.gql(UPSERT, { input: { name: 'bad', ...timing, task } });
      expect(r.data ?? null, JSON.stringify(timing)).toBeNull();
      expect(r.errors, JSON.stringify(timing)).toHaveLength(1);
      expect(r.errors![0]!.extensions?.code, JSON.stringify(r.errors)).toBe('VALIDATION');
      expect(r.errors![0]!.message).toMatch(says);
    }
    expect((await t.ok(`{ schedules { name } }`)).schedules).toEqual([]);
  });

  it('upsertSchedule, schedules (nextRunAt, lastRunAt, lastTask), setScheduleEnabled and deleteSchedule', async () => {
    const clock = new Clock(at('2026-03-01T08:10:00Z'));
    const t = await makeApp({ store: { now: clock.now } });
    const created = await t.ok(UPSERT, {
      input: {
        name: 'digest',
        cron: '0 9 * * *',
        timezone: 'Europe/Berlin',
        task: { type: 'send-digest', payload: { list: 'all' }, queue: 'mail', maxAttempts: 3 },
      },
    });
    expect(created.upsertSchedule).toEqual({
      id: Buffer.from('Schedule:digest').toString('base64'),
      name: 'digest',
      cron: '0 9 * * *',
      intervalSeconds: null,
      timezone: 'Europe/Berlin',
      enabled: true,
      taskType: 'send-digest',
      taskTemplate: { type: 'send-digest', payload: { list: 'all' }, queue: 'mail', priority: 100, compatibility: {}, maxAttempts: 3, timeoutSeconds: null },
      nextRunAt: '2026-03-02T08:00:00.000Z', // 09:00 CET tomorrow: today's (08:00Z) has passed
      lastRunAt: null,
      lastTask: null,
    });
    await t.ok(UPSERT, { input: { name: 'tick', intervalSeconds: 86_400, task: { type: 'tick', payload: {} } } });

    clock.t = at('2026-03-02T08:00:00Z');
    expect((await t.store.fireDueSchedules()).fired.map((f) => f.schedule)).toEqual(['digest']);
    let list = (await t.ok(LIST)).schedules;
    expect(list.map((s: { name: string }) => s.name)).toEqual(['digest', 'tick']);
    expect(list[0]).toMatchObject({
      enabled: true,
      nextRunAt: '2026-03-03T08:00:00.000Z',
      lastRunAt: '2026-03-02T08:00:00.000Z',
      lastTask: {
        status: 'QUEUED',
        type: 'send-digest',
        idempotencyKey: 'schedule:digest:2026-03-02T08:00:00.000Z',
        logs: { edges: [{ node: { level: 'INFO', message: 'enqueued by schedule digest for 2026-03-02T08:00:00.000Z' } }] },
      },
    });
    // The daily tick was created at 08:10: its first fire is due at 08:10 the next day.
    expect(list[1]).toMatchObject({ lastRunAt: null, lastTask: null, nextRunAt: '2026-03-02T08:10:00.000Z' });

    const off = await t.ok(`mutation { setScheduleEnabled(name: "digest", enabled: false) { name enabled } }`);
    expect(off.setScheduleEnabled).toEqual({ name: 'digest', enabled: false });
    clock.t = at('2026-03-03T08:00:00Z');
    expect((await t.store.fireDueSchedules()).fired.map((f) => f.schedule)).toEqual(['tick']);
    expect(await t.store.countTasks({ correlationId: 'schedule:digest' })).toBe(1);

    clock.t = at('2026-03-03T12:00:00Z');
    const on = await t.ok(`mutation { setScheduleEnabled(name: "digest", enabled: true) { enabled nextRunAt lastRunAt } }`);
    expect(on.setScheduleEnabled).toEqual({ enabled: true, nextRunAt: '2026-03-04T08:00:00.000Z', lastRunAt: '2026-03-02T08:00:00.000Z' });

    const missing = await t.gql(`mutation { setScheduleEnabled(name: "ghost", enabled: true) { name } }`);
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    expect((await t.ok(`mutation { deleteSchedule(name: "digest") }`)).deleteSchedule).toBe(true);
    expect((await t.ok(`mutation { deleteSchedule(name: "digest") }`)).deleteSchedule).toBe(false);
    list = (await t.ok(LIST)).schedules;
    expect(list.map((s: { name: string }) => s.name)).toEqual(['tick']);
    clock.t = at('2026-03-04T08:00:00Z');
    expect((await t.store.fireDueSchedules()).fired.map((f) => f.schedule)).toEqual(['tick']);
  });

  it('lastTask is null, without an error, once retention has removed that task', async () => {
    const clock = new Clock(at('2026-01-01T00:00:00Z'));
    const t = await makeApp({ store: { now: clock.now } });
    // A monthly job: its last task is older than the 7-day retention for most of the month.
    await t.store.upsertSchedule(job('monthly', { cron: '0 0 1 * *' }));
    clock.t = at('2026-02-01T00:00:00Z');
    await t.store.fireDueSchedules();
    const [c] = await t.store.claim({ workerId: 'w' });
    await t.store.complete({ taskId: c!.task.id, leaseToken: c!.leaseToken });
    clock.t = at('2026-02-10T00:00:00Z');
    expect((await t.store.cleanup(7 * 86_400_000)).tasks).toBe(1);
    const r = await t.gql(`{ schedules { name lastRunAt nextRunAt lastTask { id } } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data.schedules).toEqual([
      { name: 'monthly', lastRunAt: '2026-02-01T00:00:00.000Z', nextRunAt: '2026-03-01T00:00:00.000Z', lastTask: null },
    ]);
  });

  it("the server's sweep tick fires due schedules by itself", async () => {
    const clock = new Clock(at('2026-01-01T00:00:00Z'));
    const t = await makeApp({ store: { now: clock.now }, sweepIntervalMs: 20 });
    await t.store.upsertSchedule(job('auto', { intervalSeconds: 60 }));
    clock.t = at('2026-01-01T00:01:00Z');
    await until(async () => (await t.store.countTasks({ correlationId: 'schedule:auto' })) === 1, 'the sweep tick to fire the schedule');
    clock.t = at('2026-01-01T00:02:00Z');
    await until(async () => (await t.store.countTasks({ correlationId: 'schedule:auto' })) === 2, 'the second fire');
    const list = (await t.ok(LIST)).schedules;
    expect(list[0]).toMatchObject({ lastRunAt: '2026-01-01T00:02:00.000Z', nextRunAt: '2026-01-01T00:03:00.000Z', lastTask: { status: 'QUEUED' } });
  });
});
