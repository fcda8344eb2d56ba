/** Recurring schedules: writing them, and firing the due ones exactly once per fire. */
import { TaskwireError, notFound, validation } from '../../errors.js';
import type { FireResult, Schedule, UpsertScheduleInput } from '../../types.js';
import type { StoredSchedule } from '../../driver.js';
import { checkCron, checkTimezone } from '../../schedule.js';
import { isPlainObject, optionalInt, optionalString, requireString } from '../../validate.js';
import { LIMITS } from '../defaults.js';
import type { EngineEnv } from '../env.js';
import { MAX_MISSED, planFire, toggledNextRun, upsertTiming } from '../rules/schedules.js';
import { call, savepoint, type Unit } from '../unit.js';
import { enqueueOne, normalizeEnqueue } from './enqueue.js';
import { addLog } from './outbox.js';

/** A checked schedule input: everything but its timing state. */
export type ScheduleSpec = Omit<StoredSchedule, 'anchorAt' | 'nextRunAt' | 'lastRunAt' | 'lastTaskId'>;

export function normalizeSchedule(input: UpsertScheduleInput, maxPayloadBytes: number): ScheduleSpec {
  if (!isPlainObject(input)) throw validation('input must be an object');
  const name = requireString(input.name, 'name');
  const timezone = checkTimezone(optionalString(input.timezone, 'timezone') ?? 'UTC');
  const cron = optionalString(input.cron, 'cron');
  const intervalSeconds = optionalInt(input.intervalSeconds, 'intervalSeconds', 1, LIMITS.delaySeconds);
  if ((cron === null) === (intervalSeconds === null)) {
    throw validation('give exactly one of cron and intervalSeconds', cron === null ? 'cron' : 'intervalSeconds');
  }
  if (cron !== null) checkCron(cron, timezone);
  if (!isPlainObject(input.task)) throw validation('task must be an object', 'task');
  const { type, payload, queue, priority, compatibility, maxAttempts, timeoutSeconds } = normalizeEnqueue(
    { ...input.task, dependsOn: null, runAfter: null, delaySeconds: null },
    0,
    maxPayloadBytes,
  );
  const template = { type, payload, queue, priority, compatibility, maxAttempts, timeoutSeconds };
  return { name, cron, intervalSeconds, timezone, enabled: input.enabled !== false, template };
}

export function toSchedule(s: StoredSchedule): Schedule {
  return {
    name: s.name,
    cron: s.cron,
    intervalSeconds: s.intervalSeconds,
    timezone: s.timezone,
    enabled: s.enabled,
    task: { ...s.template, payload: JSON.parse(s.template.payload), compatibility: JSON.parse(s.template.compatibility) },
    nextRunAt: s.nextRunAt,
    lastRunAt: s.lastRunAt,
    lastTaskId: s.lastTaskId,
  };
}

export function* upsertSchedule(spec: ScheduleSpec, env: EngineEnv): Unit<Schedule> {
  const now = env.now();
  const before = yield* call('scheduleByName', spec.name);
  const { anchorAt, nextRunAt } = upsertTiming(before, spec, spec.enabled, now);
  yield* call('upsertSchedule', { ...spec, anchorAt, nextRunAt, lastRunAt: before?.lastRunAt ?? null, lastTaskId: before?.lastTaskId ?? null }, now);
  return toSchedule((yield* call('scheduleByName', spec.name))!);
}

export function* setScheduleEnabled(name: string, enabled: boolean, env: EngineEnv): Unit<Schedule> {
  const before = yield* call('scheduleByName', name);
  if (!before) throw notFound('schedule', name);
  const now = env.now();
  yield* call('setScheduleEnabled', name, enabled, toggledNextRun(before, enabled, now), now);
  return toSchedule((yield* call('scheduleByName', name))!);
}

/**
 * Relies on: lockDueSchedules skipping schedules another instance is firing, and the
 * fire's idempotency key (rules/schedules.ts fireKey), so one due time enqueues one task
 * however many schedulers tick at once.
 */
export function* fireDueSchedules(env: EngineEnv): Unit<FireResult> {
  const now = env.now();
  const fired: FireResult['fired'] = [];
  const failed: FireResult['failed'] = [];
  for (const s of yield* call('lockDueSchedules', now)) {
    const { fireAt, missed, next, key } = planFire(s.name, { ...s, nextRunAt: s.nextRunAt! }, now);
    let taskId: number | null = s.lastTaskId;
    try {
      // A savepoint per schedule: one whose template no longer passes (say, a smaller
      // payload limit on this server) is skipped, and the others still fire.
      const t = s.template;
      const result = yield* savepoint(
        enqueueOne(
          {
            type: t.type,
            payload: JSON.parse(t.payload),
            queue: t.queue,
            priority: t.priority,
            compatibility: JSON.parse(t.compatibility),
            maxAttempts: t.maxAttempts,
            timeoutSeconds: t.timeoutSeconds,
            idempotencyKey: key,
            correlationId: `schedule:${s.name}`,
          },
          now,
          env,
        ),
      );
      taskId = result.task.id;
      if (result.created) {
        const note =
          missed > 0
            ? `; ${missed >= MAX_MISSED ? `at least ${MAX_MISSED}` : missed} fire(s) missed while the scheduler was down were folded into this one`
            : '';
        yield* addLog(taskId, now, missed > 0 ? 'WARN' : 'INFO', `enqueued by schedule ${s.name} for ${new Date(fireAt).toISOString()}${note}`);
        fired.push({ schedule: s.name, taskId, fireAt, missed });
      }
    } catch (e) {
      if (!(e instanceof TaskwireError) || e.code !== 'VALIDATION') throw e;
      failed.push({ schedule: s.name, fireAt, error: e.message });
    }
    yield* call('advanceSchedule', s.name, next, fireAt, taskId, now);
  }
  return { fired, failed };
}
