/**
 * SQLite statements on tasks: one function per operation of the seam (driver.ts), each
 * one statement. Lock operations are plain reads here: BEGIN IMMEDIATE already holds the
 * only write lock, so nothing changes between a read and the write that follows it.
 */
import type { Ops } from '../../driver.js';
import { TRANSITIONS } from '../../engine/transitions.js';
import type { TaskStatus } from '../../types.js';
import { LOG_COLUMNS, TASK_COLUMNS, toLog, toTask, type LogRow, type TaskRow } from '../rows.js';
import { jsonList, sqlList, type Statements } from '../statements.js';

/** The guards of cancel and retry, written from the status machine's table. */
const CANCELLABLE_SQL = `status IN ${sqlList(TRANSITIONS.cancelWhileWaiting.from)}`;
const RETRYABLE_SQL = `status IN ${sqlList(TRANSITIONS.retry.from)}`;
/** What every attempt that ends without success clears. */
const CLEAR_LEASE = 'lease_token = NULL, lease_until = NULL, timeout_at = NULL, updated_at = @now, error_message = @error';
const SAME_ATTEMPT = `id = @id AND status = 'RUNNING' AND attempts = @attempts`;
/** A lease as presented: the right token on a RUNNING task, held by `holder` if one is named. */
const LEASED = `id = @id AND status = 'RUNNING' AND lease_token = @token AND (@holder IS NULL OR locked_by = @holder)`;

export type TaskOps = Pick<
  Ops,
  | 'taskByKey'
  | 'insertTaskUnlessKeyTaken'
  | 'insertDependencies'
  | 'lockStatuses'
  | 'lockTask'
  | 'dependencyIdsOf'
  | 'leaseHolder'
  | 'markRunningIfQueued'
  | 'extendLeaseIfHeld'
  | 'cancelRequestedOf'
  | 'setProgressIfLeased'
  | 'finishIfLeased'
  | 'endAttemptIfCurrent'
  | 'lockBlockedDependents'
  | 'readyOf'
  | 'queueIfBlocked'
  | 'cancelIfBlocked'
  | 'cancelIfWaiting'
  | 'requestCancelIfRunning'
  | 'resetIfRetryable'
  | 'insertLog'
  | 'lockLateAttempts'
  | 'lockLapsedLeases'
>;

export function taskOps(sql: Statements): TaskOps {
  const taskById = (id: number) => sql.get(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id = ?`).get(id) as TaskRow | undefined;
  return {
    taskByKey(key) {
      const row = sql.get(`SELECT ${TASK_COLUMNS} FROM tasks WHERE idempotency_key = ?`).get(key) as TaskRow | undefined;
      return row ? toTask(row) : null;
    },

    insertTaskUnlessKeyTaken(t) {
      const { lastInsertRowid, changes } = sql
        .get(
          `INSERT INTO tasks (queue, type, priority, payload, compatibility, status, max_attempts, run_after,
             idempotency_key, correlation_id, timeout_seconds, error_message, finished_at, created_by, created_at, updated_at)
           VALUES (@queue, @type, @priority, @payload, @compatibility, @status, @maxAttempts, @runAfter,
             @idempotencyKey, @correlationId, @timeoutSeconds, @errorMessage, @finishedAt, @createdBy, @now, @now)
           ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`,
        )
        .run(t);
      return changes === 0 ? null : Number(lastInsertRowid);
    },

    insertDependencies(taskId, dependsOn) {
      const insert = sql.get('INSERT INTO task_dependencies (task_id, depends_on_id) VALUES (?, ?)');
      for (const dep of dependsOn) insert.run(taskId, dep);
    },

    lockStatuses(ids) {
      return sql.get(`SELECT id, status FROM tasks WHERE id IN (SELECT value FROM json_each(?))`).all(jsonList(ids)) as {
        id: number;
        status: TaskStatus;
      }[];
    },

    lockTask(id) {
      const row = taskById(id);
      return row ? toTask(row) : null;
    },

    dependencyIdsOf(taskId) {
      return sql.get('SELECT depends_on_id FROM task_dependencies WHERE task_id = ?').pluck().all(taskId) as number[];
    },

    leaseHolder(taskId) {
      return (
        (sql.get('SELECT status, lease_token AS leaseToken, locked_by AS lockedBy FROM tasks WHERE id = ?').get(taskId) as
          | { status: TaskStatus; leaseToken: string | null; lockedBy: string | null }
          | undefined) ?? null
      );
    },

    markRunningIfQueued(id, lease) {
      return sql.updateTask(
        `UPDATE tasks SET status = 'RUNNING', attempts = attempts + 1, lease_token = @leaseToken,
           lease_until = @leaseUntil, locked_by = @workerId, started_at = @now, updated_at = @now,
           progress = NULL, progress_message = NULL, cancel_requested = 0,
           timeout_at = CASE WHEN timeout_seconds IS NULL THEN NULL ELSE @now + timeout_seconds * 1000 END
         WHERE id = @id AND status = 'QUEUED'`,
        { id, leaseToken: lease.leaseToken, leaseUntil: lease.leaseUntil, workerId: lease.workerId, now: lease.now },
      );
    },

    extendLeaseIfHeld(taskId, leaseToken, workerId, until) {
      const row = sql
        .get(
          `UPDATE tasks SET lease_until = max(lease_until, @until)
           WHERE id = @id AND status = 'RUNNING' AND lease_token = @token AND locked_by = @worker
           RETURNING lease_until, cancel_requested`,
        )
        .get({ id: taskId, token: leaseToken, until, worker: workerId }) as { lease_until: number; cancel_requested: number } | undefined;
      return row ? { leaseUntil: row.lease_until, cancelRequested: row.cancel_requested !== 0 } : null;
    },

    cancelRequestedOf(taskId) {
      const v = sql.get('SELECT cancel_requested FROM tasks WHERE id = ?').pluck().get(taskId) as number | undefined;
      return v === undefined ? null : v !== 0;
    },

    setProgressIfLeased(ref, progress, message, now) {
      return sql.updateTask(`UPDATE tasks SET progress = @progress, progress_message = @message, updated_at = @now WHERE ${LEASED}`, {
        id: ref.taskId,
        token: ref.leaseToken,
        holder: ref.holder,
        progress,
        message,
        now,
      });
    },

    finishIfLeased(ref, result, now) {
      return sql.updateTask(
        `UPDATE tasks SET status = 'SUCCEEDED', result = @result, finished_at = @now, updated_at = @now,
           lease_token = NULL, lease_until = NULL, timeout_at = NULL, progress = 1, error_message = NULL
         WHERE ${LEASED}`,
        { id: ref.taskId, token: ref.leaseToken, holder: ref.holder, result, now },
      );
    },

    endAttemptIfCurrent(taskId, attempts, end, now) {
      return end.status === 'QUEUED'
        ? sql.updateTask(`UPDATE tasks SET status = 'QUEUED', run_after = @runAfter, ${CLEAR_LEASE} WHERE ${SAME_ATTEMPT}`, {
            id: taskId,
            attempts,
            now,
            error: end.errorMessage,
            runAfter: end.runAfter,
          })
        : sql.updateTask(`UPDATE tasks SET status = @status, finished_at = @now, ${CLEAR_LEASE} WHERE ${SAME_ATTEMPT}`, {
            id: taskId,
            attempts,
            now,
            error: end.errorMessage,
            status: end.status,
          });
    },

    lockBlockedDependents(taskId) {
      // CROSS JOIN fixes the join order: start from this task's edges (an index seek),
      // never from every BLOCKED task, which is what the planner picks without statistics.
      return sql
        .get(
          `SELECT t.id FROM task_dependencies d CROSS JOIN tasks t ON t.id = d.task_id
           WHERE d.depends_on_id = ? AND t.status = 'BLOCKED'`,
        )
        .pluck()
        .all(taskId) as number[];
    },

    readyOf(ids) {
      return sql
        .get(
          `SELECT t.value FROM json_each(?) t
           WHERE NOT EXISTS (
             SELECT 1 FROM task_dependencies d2 CROSS JOIN tasks p ON p.id = d2.depends_on_id
             WHERE d2.task_id = t.value AND p.status <> 'SUCCEEDED')`,
        )
        .pluck()
        .all(jsonList(ids)) as number[];
    },

    queueIfBlocked(taskId, now) {
      return sql.updateTask(`UPDATE tasks SET status = 'QUEUED', updated_at = @now WHERE id = @id AND status = 'BLOCKED'`, { id: taskId, now });
    },

    cancelIfBlocked(taskId, why, now) {
      return sql.updateTask(
        `UPDATE tasks SET status = 'CANCELLED', finished_at = @now, updated_at = @now, error_message = @why
         WHERE id = @id AND status = 'BLOCKED'`,
        { id: taskId, now, why },
      );
    },

    cancelIfWaiting(taskId, why, now) {
      return sql.updateTask(
        `UPDATE tasks SET status = 'CANCELLED', finished_at = @now, updated_at = @now, error_message = @why
         WHERE id = @id AND ${CANCELLABLE_SQL}`,
        { id: taskId, now, why },
      );
    },

    requestCancelIfRunning(taskId, why, now) {
      return sql.updateTask(
        `UPDATE tasks SET cancel_requested = 1, updated_at = @now, error_message = @why WHERE id = @id AND status = 'RUNNING'`,
        { id: taskId, now, why },
      );
    },

    resetIfRetryable(taskId, status, now) {
      return sql.updateTask(
        `UPDATE tasks SET status = @status, attempts = 0, run_after = @now, updated_at = @now, finished_at = NULL,
           cancel_requested = 0, lease_token = NULL, lease_until = NULL, timeout_at = NULL, locked_by = NULL,
           progress = NULL, progress_message = NULL, result = NULL, error_message = NULL
         WHERE id = @id AND ${RETRYABLE_SQL}`,
        { id: taskId, now, status },
      );
    },

    insertLog(log) {
      const row = sql
        .get(`INSERT INTO task_logs (task_id, at, level, message, details) VALUES (?, ?, ?, ?, ?) RETURNING ${LOG_COLUMNS}`)
        .get(log.taskId, log.at, log.level, log.message, log.details) as LogRow;
      return toLog(row);
    },

    lockLateAttempts(now) {
      const rows = sql
        .get(
          `SELECT ${TASK_COLUMNS} FROM tasks INDEXED BY ix_tasks_running
           WHERE status = 'RUNNING' AND timeout_at IS NOT NULL AND timeout_at <= ?`,
        )
        .all(now) as TaskRow[];
      return rows.map(toTask);
    },

    lockLapsedLeases(now) {
      const rows = sql
        .get(`SELECT ${TASK_COLUMNS} FROM tasks INDEXED BY ix_tasks_running WHERE status = 'RUNNING' AND lease_until < ?`)
        .all(now) as TaskRow[];
      return rows.map(toTask);
    },
  };
}
