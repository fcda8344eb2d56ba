/**
 * SQLite statements on tasks: one function per operation of the seam (driver.ts), each
 * one statement. Lock operations are plain reads here: BEGIN IMMEDIATE already holds the
 * only write lock, so nothing changes between a read and the write that follows it.
 */
import type { TaskOpName, Ops } from '../../driver.js';
import { TRANSITIONS } from '../../engine/transitions.js';
import type { Task, TaskStatus } from '../../types.js';
import { LOG_COLUMNS, TASK_COLUMNS, toLog, toTask, type LogRow, type TaskRow } from '../../rows.js';
import { jsonList, sqlList, type Statements } from '../statements.js';

/** The guards of cancel and retry, written from the status machine's table. */
const CANCELLABLE_SQL = `status IN ${sqlList(TRANSITIONS.cancelWhileWaiting.from)}`;
const RETRYABLE_SQL = `status IN ${sqlList(TRANSITIONS.retry.from)}`;
/** What every attempt that ends without success clears. */
const CLEAR_LEASE = 'lease_token = NULL, lease_until = NULL, timeout_at = NULL, updated_at = @now, error_message = @error';
const SAME_ATTEMPT = `id = @id AND status = 'RUNNING' AND attempts = @attempts`;
/** A lease as presented: the right token on a RUNNING task, held by `holder` if one is named. */
const LEASED = `id = @id AND status = 'RUNNING' AND lease_token = @token AND (@holder IS NULL OR locked_by = @holder)`;

export type TaskOps = Pick<Ops, TaskOpName>;

export function taskOps(sql: Statements): TaskOps {
  // Each operation's statements, prepared on first use and held here (Statements.once).
  const q = {
    byId: sql.once(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id = ?`),
    byLease: sql.once(`SELECT ${TASK_COLUMNS} FROM tasks WHERE ${LEASED}`),
    taskByKey: sql.once(`SELECT ${TASK_COLUMNS} FROM tasks WHERE idempotency_key = ?`),
    insertTaskUnlessKeyTaken: sql.once(`INSERT INTO tasks (queue, type, priority, payload, compatibility, status, max_attempts, run_after,
             idempotency_key, correlation_id, timeout_seconds, error_message, finished_at, created_by, created_at, updated_at)
           VALUES (@queue, @type, @priority, @payload, @compatibility, @status, @maxAttempts, @runAfter,
             @idempotencyKey, @correlationId, @timeoutSeconds, @errorMessage, @finishedAt, @createdBy, @now, @now)
           ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`),
    insertDependencies: sql.once('INSERT INTO task_dependencies (task_id, depends_on_id) VALUES (?, ?)'),
    lockStatuses: sql.once(`SELECT id, status FROM tasks WHERE id IN (SELECT value FROM json_each(?))`),
    dependencyIdsOf: sql.once('SELECT depends_on_id FROM task_dependencies WHERE task_id = ?'),
    leaseHolder: sql.once('SELECT status, lease_token AS leaseToken, locked_by AS lockedBy FROM tasks WHERE id = ?'),
    markRunningIfQueued: sql.taskUpdate(`UPDATE tasks SET status = 'RUNNING', attempts = attempts + 1, lease_token = @leaseToken,
           lease_until = @leaseUntil, locked_by = @workerId, started_at = @now, updated_at = @now,
           progress = NULL, progress_message = NULL, cancel_requested = 0,
           timeout_at = CASE WHEN timeout_seconds IS NULL THEN NULL ELSE @now + timeout_seconds * 1000 END
         WHERE id = @id AND status = 'QUEUED'`),
    extendLeaseIfHeld: sql.once(`UPDATE tasks SET lease_until = max(lease_until, @until)
           WHERE id = @id AND status = 'RUNNING' AND lease_token = @token AND locked_by = @worker
           RETURNING lease_until, cancel_requested`),
    cancelRequestedOf: sql.once('SELECT cancel_requested FROM tasks WHERE id = ?'),
    setProgressIfLeased: sql.taskUpdate(`UPDATE tasks SET progress = @progress, progress_message = @message, updated_at = @now WHERE ${LEASED}`),
    finishIfLeased: sql.taskUpdate(`UPDATE tasks SET status = 'SUCCEEDED', result = @result, finished_at = @now, updated_at = @now,
           lease_token = NULL, lease_until = NULL, timeout_at = NULL, progress = 1, error_message = NULL
         WHERE ${LEASED}`),
    releaseIfLeased: sql.taskUpdate(`UPDATE tasks SET status = 'QUEUED', attempts = attempts - 1, lease_token = NULL, lease_until = NULL,
           timeout_at = NULL, updated_at = @now WHERE ${LEASED} AND cancel_requested = 0`),
    endAttemptIfCurrent: sql.taskUpdate(`UPDATE tasks SET status = 'QUEUED', run_after = @runAfter, ${CLEAR_LEASE} WHERE ${SAME_ATTEMPT}`),
    endAttemptIfCurrent2: sql.taskUpdate(`UPDATE tasks SET status = @status, finished_at = @now, ${CLEAR_LEASE} WHERE ${SAME_ATTEMPT}`),
    lockBlockedDependents: sql.once(`SELECT t.id FROM task_dependencies d CROSS JOIN tasks t ON t.id = d.task_id
           WHERE d.depends_on_id = ? AND t.status = 'BLOCKED'`),
    readyOf: sql.once(`SELECT t.value FROM json_each(?) t
           WHERE NOT EXISTS (
             SELECT 1 FROM task_dependencies d2 CROSS JOIN tasks p ON p.id = d2.depends_on_id
             WHERE d2.task_id = t.value AND p.status <> 'SUCCEEDED')`),
    queueIfBlocked: sql.taskUpdate(`UPDATE tasks SET status = 'QUEUED', updated_at = @now WHERE id = @id AND status = 'BLOCKED'`),
    cancelIfBlocked: sql.taskUpdate(`UPDATE tasks SET status = 'CANCELLED', finished_at = @now, updated_at = @now, error_message = @why
         WHERE id = @id AND status = 'BLOCKED'`),
    cancelIfWaiting: sql.taskUpdate(`UPDATE tasks SET status = 'CANCELLED', finished_at = @now, updated_at = @now, error_message = @why
         WHERE id = @id AND ${CANCELLABLE_SQL}`),
    requestCancelIfRunning: sql.taskUpdate(`UPDATE tasks SET cancel_requested = 1, updated_at = @now, error_message = @why WHERE id = @id AND status = 'RUNNING'`),
    resetIfRetryable: sql.taskUpdate(`UPDATE tasks SET status = @status, attempts = 0, run_after = @now, updated_at = @now, finished_at = NULL,
           cancel_requested = 0, lease_token = NULL, lease_until = NULL, timeout_at = NULL, locked_by = NULL,
           progress = NULL, progress_message = NULL, result = NULL, error_message = NULL
         WHERE id = @id AND ${RETRYABLE_SQL}`),
    insertLog: sql.once(`INSERT INTO task_logs (task_id, at, level, message, details) VALUES (?, ?, ?, ?, ?) RETURNING ${LOG_COLUMNS}`),
    lockLateAttempts: sql.once(`SELECT ${TASK_COLUMNS} FROM tasks INDEXED BY ix_tasks_running
           WHERE status = 'RUNNING' AND timeout_at IS NOT NULL AND timeout_at <= ?`),
    lockLapsedLeases: sql.once(`SELECT ${TASK_COLUMNS} FROM tasks INDEXED BY ix_tasks_running WHERE status = 'RUNNING' AND lease_until < ?`),
  };
  const taskById = (id: number) => q.byId().get(id) as TaskRow | undefined;
  return {
    taskByKey(key) {
      const row = q.taskByKey().get(key) as TaskRow | undefined;
      return row ? toTask(row) : null;
    },

    // One writer at a time: no other transaction can hold a key.
    lockIdempotencyKeys() {},

    insertTaskUnlessKeyTaken(t) {
      const { lastInsertRowid, changes } = q.insertTaskUnlessKeyTaken().run(t);
      return changes === 0 ? null : Number(lastInsertRowid);
    },

    insertDependencies(taskId, dependsOn) {
      const insert = q.insertDependencies();
      for (const dep of dependsOn) insert.run(taskId, dep);
    },

    lockStatuses(ids) {
      return q.lockStatuses().all(jsonList(ids)) as {
        id: number;
        status: TaskStatus;
      }[];
    },

    lockTask(id) {
      const row = taskById(id);
      return row ? toTask(row) : null;
    },

    lockTaskIfLeased(ref) {
      const row = q.byLease().get({ id: ref.taskId, token: ref.leaseToken, holder: ref.holder }) as TaskRow | undefined;
      return row ? toTask(row) : null;
    },

    dependencyIdsOf(taskId) {
      return q.dependencyIdsOf().pluck().all(taskId) as number[];
    },

    leaseHolder(taskId) {
      return (
        (q.leaseHolder().get(taskId) as
          | { status: TaskStatus; leaseToken: string | null; lockedBy: string | null }
          | undefined) ?? null
      );
    },

    // The batch operations run their one-task statement per task: on SQLite a statement
    // costs microseconds and no round trip, and the prepared statement is the fastest form.
    markRunningIfQueued(claims, lease) {
      const tasks: Task[] = [];
      const params = { id: 0, leaseToken: '', leaseUntil: lease.leaseUntil, workerId: lease.workerId, now: lease.now };
      for (const c of claims) {
        params.id = c.taskId;
        params.leaseToken = c.leaseToken;
        const t = q.markRunningIfQueued(params);
        if (t) tasks.push(t);
      }
      return tasks;
    },

    extendLeaseIfHeld(leases, workerId, until) {
      const s = q.extendLeaseIfHeld();
      return leases.map((l) => {
        const row = s.get({ id: l.taskId, token: l.leaseToken, until, worker: workerId }) as { lease_until: number; cancel_requested: number } | undefined;
        return row ? { leaseUntil: row.lease_until, cancelRequested: row.cancel_requested !== 0 } : null;
      });
    },

    cancelRequestedOf(taskId) {
      const v = q.cancelRequestedOf().pluck().get(taskId) as number | undefined;
      return v === undefined ? null : v !== 0;
    },

    releaseIfLeased(ref, now) {
      return q.releaseIfLeased({ id: ref.taskId, token: ref.leaseToken, holder: ref.holder, now });
    },

    setProgressIfLeased(ref, progress, message, now) {
      return q.setProgressIfLeased( {
        id: ref.taskId,
        token: ref.leaseToken,
        holder: ref.holder,
        progress,
        message,
        now,
      });
    },

    finishIfLeased(refs, results, now) {
      return refs.map((ref, i) => q.finishIfLeased({ id: ref.taskId, token: ref.leaseToken, holder: ref.holder, result: results[i] ?? null, now }));
    },

    endAttemptIfCurrent(taskId, attempts, end, now) {
      return end.status === 'QUEUED'
        ? q.endAttemptIfCurrent( {
            id: taskId,
            attempts,
            now,
            error: end.errorMessage,
            runAfter: end.runAfter,
          })
        : q.endAttemptIfCurrent2( {
            id: taskId,
            attempts,
            now,
            error: end.errorMessage,
            status: end.status,
          });
    },

    lockBlockedDependents(taskIds) {
      // CROSS JOIN fixes the join order: start from this task's edges (an index seek),
      // never from every BLOCKED task, which is what the planner picks without statistics.
      const s = q.lockBlockedDependents().pluck();
      if (taskIds.length === 1) return s.all(taskIds[0]) as number[];
      const ids = new Set<number>();
      for (const id of taskIds) for (const d of s.all(id) as number[]) ids.add(d);
      return [...ids].sort((a, b) => a - b);
    },

    readyOf(ids) {
      return q.readyOf().pluck()
        .all(jsonList(ids)) as number[];
    },

    queueIfBlocked(taskId, now) {
      return q.queueIfBlocked( { id: taskId, now });
    },

    cancelIfBlocked(taskId, why, now) {
      return q.cancelIfBlocked(
        { id: taskId, now, why },
      );
    },

    cancelIfWaiting(taskId, why, now) {
      return q.cancelIfWaiting(
        { id: taskId, now, why },
      );
    },

    requestCancelIfRunning(taskId, why, now) {
      return q.requestCancelIfRunning(
        { id: taskId, now, why },
      );
    },

    resetIfRetryable(taskId, status, now) {
      return q.resetIfRetryable(
        { id: taskId, now, status },
      );
    },

    insertLog(log) {
      const row = q.insertLog().get(log.taskId, log.at, log.level, log.message, log.details) as LogRow;
      return toLog(row);
    },

    lockLateAttempts(now) {
      const rows = q.lockLateAttempts().all(now) as TaskRow[];
      return rows.map(toTask);
    },

    lockLapsedLeases(now) {
      const rows = q.lockLapsedLeases().all(now) as TaskRow[];
      return rows.map(toTask);
    },
  };
}
