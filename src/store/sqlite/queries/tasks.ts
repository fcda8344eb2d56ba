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

/** Whether no task id appears twice in the list. */
function distinct(list: readonly { taskId: number }[]): boolean {
  return new Set(list.map((x) => x.taskId)).size === list.length;
}

/** The rows of a batch statement in the place of the list entry each belongs to, null where none (ids distinct). */
function inOrderOf(list: readonly { taskId: number }[], rows: readonly Task[]): (Task | null)[] {
  const byId = new Map<number, Task>();
  for (const t of rows) byId.set(t.id, t);
  return list.map((x) => byId.get(x.taskId) ?? null);
}

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
    // The batch forms: one statement for the whole claim or completion, joined to the list
    // (json_each: one rowid seek per element). Columns are qualified: json_each has an id
    // and a type of its own.
    markRunningIfQueuedBatch: sql.tasksUpdate(`UPDATE tasks SET status = 'RUNNING', attempts = tasks.attempts + 1, lease_token = c.value ->> 1,
           lease_until = @leaseUntil, locked_by = @workerId, started_at = @now, updated_at = @now,
           progress = NULL, progress_message = NULL, cancel_requested = 0,
           timeout_at = CASE WHEN tasks.timeout_seconds IS NULL THEN NULL ELSE @now + tasks.timeout_seconds * 1000 END
         FROM json_each(@claims) AS c
         WHERE tasks.id = c.value ->> 0 AND tasks.status = 'QUEUED'`),
    // While task_counts_paused holds its row, the count trigger stands aside (migration 005)
    // and a batch adds each group's change itself: two statements per batch, not per row.
    pauseCounts: sql.once('INSERT INTO task_counts_paused (one) VALUES (1)'),
    resumeCounts: sql.once('DELETE FROM task_counts_paused'),
    countsLeave: sql.once(`UPDATE task_counts SET count = count - (g.value ->> 3) FROM json_each(?) AS g
           WHERE task_counts.queue = g.value ->> 0 AND task_counts.type = g.value ->> 1 AND task_counts.status = g.value ->> 2`),
    countsEnter: sql.once(`INSERT INTO task_counts (queue, type, status, count)
           SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?) WHERE true
           ON CONFLICT (queue, type, status) DO UPDATE SET count = count + excluded.count`),
    extendLeaseIfHeld: sql.once(`UPDATE tasks SET lease_until = max(lease_until, @until)
           WHERE id = @id AND status = 'RUNNING' AND lease_token = @token AND locked_by = @worker
           RETURNING lease_until, cancel_requested`),
    cancelRequestedOf: sql.once('SELECT cancel_requested FROM tasks WHERE id = ?'),
    setMetadataIfLeased: sql.taskUpdate(`UPDATE tasks SET metadata = @metadata, updated_at = @now WHERE ${LEASED}`),
    setProgressIfLeased: sql.taskUpdate(`UPDATE tasks SET progress = @progress, progress_message = @message, updated_at = @now WHERE ${LEASED}`),
    finishIfLeased: sql.taskUpdate(`UPDATE tasks SET status = 'SUCCEEDED', result = @result, finished_at = @now, updated_at = @now,
           lease_token = NULL, lease_until = NULL, timeout_at = NULL, progress = 1, error_message = NULL
         WHERE ${LEASED}`),
    releaseIfLeased: sql.taskUpdate(`UPDATE tasks SET status = 'QUEUED', attempts = attempts - 1, lease_token = NULL, lease_until = NULL,
           timeout_at = NULL, updated_at = @now WHERE ${LEASED} AND cancel_requested = 0`),
    finishIfLeasedBatch: sql.tasksUpdate(`UPDATE tasks SET status = 'SUCCEEDED', result = c.value ->> 3, finished_at = @now, updated_at = @now,
           lease_token = NULL, lease_until = NULL, timeout_at = NULL, progress = 1, error_message = NULL
         FROM json_each(@refs) AS c
         WHERE tasks.id = c.value ->> 0 AND tasks.status = 'RUNNING' AND tasks.lease_token = c.value ->> 1
           AND (c.value ->> 2 IS NULL OR tasks.locked_by = c.value ->> 2)`),
    endAttemptIfCurrent: sql.taskUpdate(`UPDATE tasks SET status = 'QUEUED', run_after = @runAfter, ${CLEAR_LEASE} WHERE ${SAME_ATTEMPT}`),
    endAttemptIfCurrent2: sql.taskUpdate(`UPDATE tasks SET status = @status, finished_at = @now, ${CLEAR_LEASE} WHERE ${SAME_ATTEMPT}`),
    lockBlockedDependents: sql.once(`SELECT t.id FROM task_dependencies d CROSS JOIN tasks t ON t.id = d.task_id
           WHERE d.depends_on_id = ? AND t.status = 'BLOCKED'`),
    // The same for a list: one statement for a whole batch's completions (mostly no edges at all).
    lockBlockedDependentsOfList: sql.once(`SELECT t.id FROM json_each(?) j CROSS JOIN task_dependencies d ON d.depends_on_id = j.value
           CROSS JOIN tasks t ON t.id = d.task_id
           WHERE t.status = 'BLOCKED'`),
    readyOf: sql.once(`SELECT t.value FROM json_each(?) t
           WHERE NOT EXISTS (
             SELECT 1 FROM task_dependencies d2 CROSS JOIN tasks p ON p.id = d2.depends_on_id
             WHERE d2.task_id = t.value AND p.status <> 'SUCCEEDED')`),
    queueIfBlocked: sql.taskUpdate(`UPDATE tasks SET status = 'QUEUED', updated_at = @now WHERE id = @id AND status = 'BLOCKED'`),
    cancelIfBlocked: sql.taskUpdate(`UPDATE tasks SET status = 'CANCELLED', finished_at = @now, updated_at = @now, error_message = @why
         WHERE id = @id AND status = 'BLOCKED'`),
    cancelIfWaiting: sql.taskUpdate(`UPDATE tasks SET status = 'CANCELLED', finished_at = @now, updated_at = @now, error_message = @why
         WHERE id = @id AND ${CANCELLABLE_SQL}`),
    updateIfEditable: sql.taskUpdate(`UPDATE tasks SET payload = coalesce(@payload, payload), priority = coalesce(@priority, priority),
           run_after = coalesce(@runAfter, run_after), max_attempts = coalesce(@maxAttempts, max_attempts), updated_at = @now
         WHERE id = @id AND status IN ('QUEUED', 'BLOCKED', 'FAILED')`),
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
  /**
   * Runs a batch UPDATE that moves tasks from status `from` to status `to`, with the count
   * trigger paused: task_counts then changes once per (queue, type) group, by the rows the
   * statement returned. The pause never outlives the call; if anything here fails, the
   * write fails and its transaction (or savepoint) takes the pause row back with the rest.
   */
  const movingCounts = (from: TaskStatus, to: TaskStatus, update: () => Task[]): Task[] => {
    q.pauseCounts().run();
    let rows: Task[];
    try {
      rows = update();
      if (rows.length > 0) {
        const groups = new Map<string, [string, string, number]>();
        for (const t of rows) {
          const key = JSON.stringify([t.queue, t.type]);
          const g = groups.get(key);
          if (g) g[2]++;
          else groups.set(key, [t.queue, t.type, 1]);
        }
        const list = [...groups.values()];
        q.countsLeave().run(JSON.stringify(list.map(([queue, type, n]) => [queue, type, from, n])));
        q.countsEnter().run(JSON.stringify(list.map(([queue, type, n]) => [queue, type, to, n])));
      }
    } finally {
      q.resumeCounts().run();
    }
    return rows;
  };
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

    // A batch runs as one UPDATE over the list: each statement opens a cursor on the table
    // and on every index it may change, and runs its triggers' programs, so one statement
    // per task cost about a third of a claim-and-complete cycle. A single task, or a list
    // that names a task twice (the per-task statements then decide which of the two
    // matches, in order), runs the one-task statement per task.
    markRunningIfQueued(claims, lease) {
      if (claims.length > 1 && distinct(claims)) {
        const rows = movingCounts('QUEUED', 'RUNNING', () =>
          q.markRunningIfQueuedBatch({
            claims: JSON.stringify(claims.map((c) => [c.taskId, c.leaseToken])),
            leaseUntil: lease.leaseUntil,
            workerId: lease.workerId,
            now: lease.now,
          }),
        );
        return inOrderOf(claims, rows).filter((t): t is Task => t !== null);
      }
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

    setMetadataIfLeased(ref, metadata, now) {
      return q.setMetadataIfLeased({ id: ref.taskId, token: ref.leaseToken, holder: ref.holder, metadata, now });
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
      if (refs.length > 1 && distinct(refs)) {
        const rows = movingCounts('RUNNING', 'SUCCEEDED', () =>
          q.finishIfLeasedBatch({
            refs: JSON.stringify(refs.map((r, i) => [r.taskId, r.leaseToken, r.holder, results[i] ?? null])),
            now,
          }),
        );
        return inOrderOf(refs, rows);
      }
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
      if (taskIds.length === 1) return q.lockBlockedDependents().pluck().all(taskIds[0]) as number[];
      const ids = new Set(q.lockBlockedDependentsOfList().pluck().all(jsonList(taskIds)) as number[]);
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

    updateIfEditable(taskId, e, now) {
      return q.updateIfEditable({ id: taskId, payload: e.payload, priority: e.priority, runAfter: e.runAfter, maxAttempts: e.maxAttempts, now });
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
