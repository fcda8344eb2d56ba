/** PostgreSQL statements on schedules. */
import { toSchedule, type ScheduleRow } from '../../rows.js';
import type { ScheduleOpName } from '../../driver.js';
import { statement, type TxOps } from '../tx.js';

const q = {
  byName: statement<ScheduleRow>('schedule_by_name', 'SELECT * FROM schedules WHERE name = $1'),
  upsert: statement(
    'upsert_schedule',
    `INSERT INTO schedules (name, cron, interval_seconds, timezone, enabled, task_type, task_payload, task_queue,
       task_priority, task_compatibility, task_max_attempts, task_timeout_seconds, anchor_at, next_run_at,
       created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
     ON CONFLICT (name) DO UPDATE SET cron = excluded.cron, interval_seconds = excluded.interval_seconds,
       timezone = excluded.timezone, enabled = excluded.enabled, task_type = excluded.task_type,
       task_payload = excluded.task_payload, task_queue = excluded.task_queue,
       task_priority = excluded.task_priority, task_compatibility = excluded.task_compatibility,
       task_max_attempts = excluded.task_max_attempts, task_timeout_seconds = excluded.task_timeout_seconds,
       anchor_at = excluded.anchor_at, next_run_at = excluded.next_run_at, updated_at = excluded.updated_at`,
  ),
  setEnabled: statement('set_schedule_enabled', 'UPDATE schedules SET enabled = $1, next_run_at = $2, updated_at = $3 WHERE name = $4'),
  remove: statement('delete_schedule', 'DELETE FROM schedules WHERE name = $1'),
  // Due schedules another instance is firing are skipped: it advances them in the same
  // transaction, so when its lock goes they are no longer due.
  lockDue: statement<ScheduleRow>(
    'lock_due_schedules',
    'SELECT * FROM schedules WHERE enabled AND next_run_at <= $1 ORDER BY next_run_at, name FOR UPDATE SKIP LOCKED',
  ),
  advance: statement(
    'advance_schedule',
    'UPDATE schedules SET next_run_at = $1, last_run_at = $2, last_task_id = $3, updated_at = $4 WHERE name = $5',
  ),
  list: statement<ScheduleRow>('list_schedules', 'SELECT * FROM schedules ORDER BY name'),
};

export type ScheduleQueries = TxOps<ScheduleOpName>;

export const scheduleQueries: ScheduleQueries = {
  async scheduleByName({ db }, name) {
    const r = (await q.byName(db, [name])).rows[0];
    return r ? toSchedule(r) : null;
  },

  async upsertSchedule({ db }, s, now) {
    const t = s.template;
    await q.upsert(db, [
      s.name, s.cron, s.intervalSeconds, s.timezone, s.enabled, t.type, t.payload, t.queue, t.priority,
      t.compatibility, t.maxAttempts, t.timeoutSeconds, s.anchorAt, s.nextRunAt, now,
    ]);
  },

  async setScheduleEnabled({ db }, name, enabled, nextRunAt, now) {
    await q.setEnabled(db, [enabled, nextRunAt, now, name]);
  },

  deleteSchedule: async ({ db }, name) => ((await q.remove(db, [name])).rowCount ?? 0) > 0,
  lockDueSchedules: async ({ db }, now) => (await q.lockDue(db, [now])).rows.map(toSchedule),

  async advanceSchedule({ db }, name, nextRunAt, lastRunAt, lastTaskId, now) {
    await q.advance(db, [nextRunAt, lastRunAt, lastTaskId, now, name]);
  },

  listSchedules: async ({ db }) => (await q.list(db, [])).rows.map(toSchedule),
};
