/** SQLite statements on schedules. */
import type { Ops, StoredSchedule } from '../../driver.js';
import type { Statements } from '../statements.js';

interface ScheduleRow {
  name: string;
  cron: string | null;
  interval_seconds: number | null;
  timezone: string;
  enabled: number;
  task_type: string;
  task_payload: string;
  task_queue: string;
  task_priority: number;
  task_compatibility: string;
  task_max_attempts: number;
  task_timeout_seconds: number | null;
  anchor_at: number;
  next_run_at: number | null;
  last_run_at: number | null;
  last_task_id: number | null;
}

function toStored(r: ScheduleRow): StoredSchedule {
  return {
    name: r.name,
    cron: r.cron,
    intervalSeconds: r.interval_seconds,
    timezone: r.timezone,
    enabled: r.enabled !== 0,
    template: {
      type: r.task_type,
      payload: r.task_payload,
      queue: r.task_queue,
      priority: r.task_priority,
      compatibility: r.task_compatibility,
      maxAttempts: r.task_max_attempts,
      timeoutSeconds: r.task_timeout_seconds,
    },
    anchorAt: r.anchor_at,
    nextRunAt: r.next_run_at,
    lastRunAt: r.last_run_at,
    lastTaskId: r.last_task_id,
  };
}

export type ScheduleOps = Pick<
  Ops,
  'scheduleByName' | 'upsertSchedule' | 'setScheduleEnabled' | 'deleteSchedule' | 'lockDueSchedules' | 'advanceSchedule' | 'listSchedules'
>;

export function scheduleOps(sql: Statements): ScheduleOps {
  return {
    scheduleByName(name) {
      const row = sql.get('SELECT * FROM schedules WHERE name = ?').get(name) as ScheduleRow | undefined;
      return row ? toStored(row) : null;
    },

    upsertSchedule(s, now) {
      const t = s.template;
      sql
        .get(
          `INSERT INTO schedules (name, cron, interval_seconds, timezone, enabled, task_type, task_payload, task_queue,
             task_priority, task_compatibility, task_max_attempts, task_timeout_seconds, anchor_at, next_run_at,
             created_at, updated_at)
           VALUES (@name, @cron, @intervalSeconds, @timezone, @enabled, @type, @payload, @queue, @priority,
             @compatibility, @maxAttempts, @timeoutSeconds, @anchor, @next, @now, @now)
           ON CONFLICT (name) DO UPDATE SET cron = excluded.cron, interval_seconds = excluded.interval_seconds,
             timezone = excluded.timezone, enabled = excluded.enabled, task_type = excluded.task_type,
             task_payload = excluded.task_payload, task_queue = excluded.task_queue,
             task_priority = excluded.task_priority, task_compatibility = excluded.task_compatibility,
             task_max_attempts = excluded.task_max_attempts, task_timeout_seconds = excluded.task_timeout_seconds,
             anchor_at = excluded.anchor_at, next_run_at = excluded.next_run_at, updated_at = excluded.updated_at`,
        )
        .run({
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
      sql.get('UPDATE schedules SET enabled = ?, next_run_at = ?, updated_at = ? WHERE name = ?').run(enabled ? 1 : 0, nextRunAt, now, name);
    },

    deleteSchedule(name) {
      return sql.get('DELETE FROM schedules WHERE name = ?').run(name).changes > 0;
    },

    lockDueSchedules(now) {
      const rows = sql
        .get(`SELECT * FROM schedules INDEXED BY ix_schedules_due WHERE enabled = 1 AND next_run_at <= ? ORDER BY next_run_at`)
        .all(now) as ScheduleRow[];
      return rows.map(toStored);
    },

    advanceSchedule(name, nextRunAt, lastRunAt, lastTaskId, now) {
      sql
        .get('UPDATE schedules SET next_run_at = ?, last_run_at = ?, last_task_id = ?, updated_at = ? WHERE name = ?')
        .run(nextRunAt, lastRunAt, lastTaskId, now, name);
    },

    listSchedules() {
      return (sql.get('SELECT * FROM schedules ORDER BY name').all() as ScheduleRow[]).map(toStored);
    },
  };
}
