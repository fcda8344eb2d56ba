/** SQLite statements on schedules. */
import type { Ops, ScheduleOpName } from '../../driver.js';
import { toSchedule as toStored, type ScheduleRow } from '../../rows.js';
import type { Statements } from '../statements.js';

export type ScheduleOps = Pick<Ops, ScheduleOpName>;

export function scheduleOps(sql: Statements): ScheduleOps {
  // Each operation's statements, prepared on first use and held here (Statements.once).
  const q = {
    scheduleByName: sql.once('SELECT * FROM schedules WHERE name = ?'),
    upsertSchedule: sql.once(`INSERT INTO schedules (name, cron, interval_seconds, timezone, enabled, task_type, task_payload, task_queue,
             task_priority, task_compatibility, task_max_attempts, task_timeout_seconds, anchor_at, next_run_at,
             created_at, updated_at)
           VALUES (@name, @cron, @intervalSeconds, @timezone, @enabled, @type, @payload, @queue, @priority,
             @compatibility, @maxAttempts, @timeoutSeconds, @anchor, @next, @now, @now)
           ON CONFLICT (name) DO UPDATE SET cron = excluded.cron, interval_seconds = excluded.interval_seconds,
             timezone = excluded.timezone, enabled = excluded.enabled, task_type = excluded.task_type,
             task_payload = excluded.task_payload, task_queue = excluded.task_queue,
             task_priority = excluded.task_priority, task_compatibility = excluded.task_compatibility,
             task_max_attempts = excluded.task_max_attempts, task_timeout_seconds = excluded.task_timeout_seconds,
             anchor_at = excluded.anchor_at, next_run_at = excluded.next_run_at, updated_at = excluded.updated_at`),
    setScheduleEnabled: sql.once('UPDATE schedules SET enabled = ?, next_run_at = ?, updated_at = ? WHERE name = ?'),
    deleteSchedule: sql.once('DELETE FROM schedules WHERE name = ?'),
    lockDueSchedules: sql.once(`SELECT * FROM schedules INDEXED BY ix_schedules_due WHERE enabled = 1 AND next_run_at <= ? ORDER BY next_run_at`),
    advanceSchedule: sql.once('UPDATE schedules SET next_run_at = ?, last_run_at = ?, last_task_id = ?, updated_at = ? WHERE name = ?'),
    listSchedules: sql.once('SELECT * FROM schedules ORDER BY name'),
  };
  return {
    scheduleByName(name) {
      const row = q.scheduleByName().get(name) as ScheduleRow | undefined;
      return row ? toStored(row) : null;
    },

    upsertSchedule(s, now) {
      const t = s.template;
      q.upsertSchedule().run({
          name: s.name,
          cron: s.cron,
          intervalSeconds: s.intervalSeconds,
          timezone: s.timezone,
          enabled: s.enabled ? 1 : 0,
          type: t.type,
          payload: t.payload,
          queue: t.queue,
          priority: t.priority,
          compatibility: t.compatibility,
          maxAttempts: t.maxAttempts,
          timeoutSeconds: t.timeoutSeconds,
          anchor: s.anchorAt,
          next: s.nextRunAt,
          now,
        });
    },

    setScheduleEnabled(name, enabled, nextRunAt, now) {
      q.setScheduleEnabled().run(enabled ? 1 : 0, nextRunAt, now, name);
    },

    deleteSchedule(name) {
      return q.deleteSchedule().run(name).changes > 0;
    },

    lockDueSchedules(now) {
      const rows = q.lockDueSchedules().all(now) as ScheduleRow[];
      return rows.map(toStored);
    },

    advanceSchedule(name, nextRunAt, lastRunAt, lastTaskId, now) {
      q.advanceSchedule().run(nextRunAt, lastRunAt, lastTaskId, now, name);
    },

    listSchedules() {
      return (q.listSchedules().all() as ScheduleRow[]).map(toStored);
    },
  };
}
