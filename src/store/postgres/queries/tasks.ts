/**
 * PostgreSQL statements on tasks: one function per operation of the seam (driver.ts),
 * each one statement. The lock operations lock: FOR SHARE on dependencies (none may
 * finish while a new edge to it is written), FOR UPDATE on a task whose read decides a
 * write, SKIP LOCKED where another instance may take the rest (sweeps).
 */
import { TRANSITIONS } from '../../engine/transitions.js';
import type { TaskStatus } from '../../types.js';
import { LOG_COLUMNS, TASK_COLUMNS, toLog, toTask, type LogRow, type TaskRow } from '../../rows.js';
import { lockKeySql } from '../connection.js';
import type { TaskOpName } from '../../driver.js';
import { statement, type TxOps } from '../tx.js';

const list = (values: readonly string[]) => `(${values.map((v) => `'${v}'`).join(', ')})`;
const CANCELLABLE = `status IN ${list(TRANSITIONS.cancelWhileWaiting.from)}`;
const RETRYABLE = `status IN ${list(TRANSITIONS.retry.from)}`;
/** A lease as presented: the right token on a RUNNING task, held by `holder` if one is named. */
const LEASED = `id = $1 AND status = 'RUNNING' AND lease_token = $2 AND ($3::text IS NULL OR locked_by = $3)`;
const SAME_ATTEMPT = `id = $1 AND status = 'RUNNING' AND attempts = $2`;

const q = {
  byId: statement<TaskRow>('task_by_id', `SELECT ${TASK_COLUMNS} FROM tasks WHERE id = $1`),
  byKey: statement<TaskRow>('task_by_key', `SELECT ${TASK_COLUMNS} FROM tasks WHERE idempotency_key = $1`),
  // ON CONFLICT DO NOTHING waits for a writer that holds the same key uncommitted, so a
  // null here means the key's task is committed and the next statement can read it.
  // The subquery's ORDER BY fixes the order the locks are taken in.
  lockKeys: statement(
    'lock_idempotency_keys',
    `SELECT pg_advisory_xact_lock(${lockKeySql(`'key:' || k`)}) FROM (SELECT k FROM unnest($1::text[]) AS k ORDER BY k) s`,
  ),
  insert: statement<{ id: number }>(
    'insert_task',
    `INSERT INTO tasks (queue, type, priority, payload, compatibility, region, format, status, max_attempts, run_after,
       idempotency_key, correlation_id, timeout_seconds, error_message, finished_at, created_by, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)
     ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
     RETURNING id`,
  ),
  insertDependencies: statement(
    'insert_dependencies',
    'INSERT INTO task_dependencies (task_id, depends_on_id) SELECT $1, d FROM unnest($2::bigint[]) AS d',
  ),
  // Rows locked in id order everywhere, so two transactions never wait on each other in a circle.
  lockStatuses: statement<{ id: number; status: TaskStatus }>(
    'lock_statuses',
    'SELECT id, status FROM tasks WHERE id = ANY($1::bigint[]) ORDER BY id FOR SHARE',
  ),
  lockTask: statement<TaskRow>('lock_task', `SELECT ${TASK_COLUMNS} FROM tasks WHERE id = $1 FOR UPDATE`),
  // Only a row that matches is locked (the WHERE is checked before the lock).
  lockTaskIfLeased: statement<TaskRow>('lock_task_if_leased', `SELECT ${TASK_COLUMNS} FROM tasks WHERE ${LEASED} FOR UPDATE`),
  dependencyIdsOf: statement<{ d: number }>('dependency_ids_of', 'SELECT depends_on_id AS d FROM task_dependencies WHERE task_id = $1'),
  leaseHolder: statement<{ status: TaskStatus; lease_token: string | null; locked_by: string | null }>(
    'lease_holder',
    'SELECT status, lease_token, locked_by FROM tasks WHERE id = $1',
  ),
  // Whole batches in one statement: the rows come as arrays, unnested, in ascending id
  // order so that two transactions lock shared rows in the same order (no deadlock).
  markRunningIfQueued: statement<TaskRow & { n: number }>(
    'mark_running_if_queued',
    `UPDATE tasks t SET status = 'RUNNING', attempts = t.attempts + 1, lease_token = c.token, lease_until = $3,
       locked_by = $4, started_at = $5, updated_at = $5, progress = NULL, progress_message = NULL, cancel_requested = false,
       timeout_at = CASE WHEN t.timeout_seconds IS NULL THEN NULL ELSE $5::bigint + t.timeout_seconds * 1000 END
     FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS c(id, token, n)
     WHERE t.id = c.id AND t.status = 'QUEUED'
     RETURNING ${prefixed('t')}, c.n`,
  ),
  extendLeaseIfHeld: statement<{ lease_until: number; cancel_requested: boolean; n: number }>(
    'extend_lease_if_held',
    `UPDATE tasks t SET lease_until = greatest(t.lease_until, $4)
     FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS c(id, token, n)
     WHERE t.id = c.id AND t.status = 'RUNNING' AND t.lease_token = c.token AND t.locked_by = $3
     RETURNING t.lease_until, t.cancel_requested, c.n`,
  ),
  cancelRequestedOf: statement<{ c: boolean }>('cancel_requested_of', 'SELECT cancel_requested AS c FROM tasks WHERE id = $1'),
  setMetadataIfLeased: statement<TaskRow>(
    'set_metadata_if_leased',
    `UPDATE tasks SET metadata = $4, updated_at = $5 WHERE ${LEASED} RETURNING ${TASK_COLUMNS}`,
  ),
  setProgressIfLeased: statement<TaskRow>(
    'set_progress_if_leased',
    `UPDATE tasks SET progress = $4, progress_message = $5, updated_at = $6 WHERE ${LEASED} RETURNING ${TASK_COLUMNS}`,
  ),
  finishIfLeased: statement<TaskRow & { n: number }>(
    'finish_if_leased',
    `UPDATE tasks t SET status = 'SUCCEEDED', result = c.result, finished_at = $5, updated_at = $5,
       lease_token = NULL, lease_until = NULL, timeout_at = NULL, progress = 1, error_message = NULL
     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS c(id, token, holder, result, n)
     WHERE t.id = c.id AND t.status = 'RUNNING' AND t.lease_token = c.token AND (c.holder IS NULL OR t.locked_by = c.holder)
     RETURNING ${prefixed('t')}, c.n`,
  ),
  releaseIfLeased: statement<TaskRow>(
    'release_if_leased',
    `UPDATE tasks SET status = 'QUEUED', attempts = attempts - 1, lease_token = NULL, lease_until = NULL, timeout_at = NULL,
       updated_at = $4
     WHERE ${LEASED} AND NOT cancel_requested RETURNING ${TASK_COLUMNS}`,
  ),
  requeueIfCurrent: statement<TaskRow>(
    'requeue_if_current',
    `UPDATE tasks SET status = 'QUEUED', run_after = $4, lease_token = NULL, lease_until = NULL, timeout_at = NULL,
       updated_at = $3, error_message = $5
     WHERE ${SAME_ATTEMPT} RETURNING ${TASK_COLUMNS}`,
  ),
  endIfCurrent: statement<TaskRow>(
    'end_if_current',
    `UPDATE tasks SET status = $4, finished_at = $3, lease_token = NULL, lease_until = NULL, timeout_at = NULL,
       updated_at = $3, error_message = $5
     WHERE ${SAME_ATTEMPT} RETURNING ${TASK_COLUMNS}`,
  ),
  lockBlockedDependents: statement<{ id: number }>(
    'lock_blocked_dependents',
    `SELECT id FROM tasks
     WHERE id IN (SELECT task_id FROM task_dependencies WHERE depends_on_id = ANY($1::bigint[])) AND status = 'BLOCKED'
     ORDER BY id FOR UPDATE`,
  ),
  readyOf: statement<{ id: number }>(
    'ready_of',
    `SELECT c.id FROM unnest($1::bigint[]) AS c(id)
     WHERE NOT EXISTS (
       SELECT 1 FROM task_dependencies d JOIN tasks p ON p.id = d.depends_on_id
       WHERE d.task_id = c.id AND p.status <> 'SUCCEEDED')`,
  ),
  queueIfBlocked: statement<TaskRow>(
    'queue_if_blocked',
    `UPDATE tasks SET status = 'QUEUED', updated_at = $2 WHERE id = $1 AND status = 'BLOCKED' RETURNING ${TASK_COLUMNS}`,
  ),
  cancelIfBlocked: statement<TaskRow>(
    'cancel_if_blocked',
    `UPDATE tasks SET status = 'CANCELLED', finished_at = $2, updated_at = $2, error_message = $3
     WHERE id = $1 AND status = 'BLOCKED' RETURNING ${TASK_COLUMNS}`,
  ),
  cancelIfWaiting: statement<TaskRow>(
    'cancel_if_waiting',
    `UPDATE tasks SET status = 'CANCELLED', finished_at = $2, updated_at = $2, error_message = $3
     WHERE id = $1 AND ${CANCELLABLE} RETURNING ${TASK_COLUMNS}`,
  ),
  updateIfEditable: statement<TaskRow>(
    'update_if_editable',
    `UPDATE tasks SET payload = coalesce($2::text, payload), format = CASE WHEN $2::text IS NULL THEN format ELSE $7 END,
       priority = coalesce($3, priority), run_after = coalesce($4, run_after), max_attempts = coalesce($5, max_attempts), updated_at = $6
     WHERE id = $1 AND status IN ('QUEUED', 'BLOCKED', 'FAILED') RETURNING ${TASK_COLUMNS}`,
  ),
  requestCancelIfRunning: statement<TaskRow>(
    'request_cancel_if_running',
    `UPDATE tasks SET cancel_requested = true, updated_at = $2, error_message = $3
     WHERE id = $1 AND status = 'RUNNING' RETURNING ${TASK_COLUMNS}`,
  ),
  resetIfRetryable: statement<TaskRow>(
    'reset_if_retryable',
    `UPDATE tasks SET status = $3, attempts = 0, run_after = $2, updated_at = $2, finished_at = NULL,
       cancel_requested = false, lease_token = NULL, lease_until = NULL, timeout_at = NULL, locked_by = NULL,
       progress = NULL, progress_message = NULL, result = NULL, error_message = NULL
     WHERE id = $1 AND ${RETRYABLE} RETURNING ${TASK_COLUMNS}`,
  ),
  insertLog: statement<LogRow>(
    'insert_log',
    `INSERT INTO task_logs (task_id, at, level, message, details) VALUES ($1, $2, $3, $4, $5) RETURNING ${LOG_COLUMNS}`,
  ),
  // The sweeper's reads: RUNNING rows are few (ix_tasks_running); rows another instance's
  // sweep holds are skipped, it ends those attempts itself.
  lockLateAttempts: statement<TaskRow>(
    'lock_late_attempts',
    `SELECT ${TASK_COLUMNS} FROM tasks WHERE status = 'RUNNING' AND timeout_at <= $1 ORDER BY id FOR UPDATE SKIP LOCKED`,
  ),
  lockLapsedLeases: statement<TaskRow>(
    'lock_lapsed_leases',
    `SELECT ${TASK_COLUMNS} FROM tasks WHERE status = 'RUNNING' AND lease_until < $1 ORDER BY id FOR UPDATE SKIP LOCKED`,
  ),
};

const one = (rows: TaskRow[]) => (rows.length === 0 ? null : toTask(rows[0]!));

/** TASK_COLUMNS qualified by a table alias (for UPDATE ... FROM, where names are ambiguous). */
function prefixed(alias: string): string {
  return TASK_COLUMNS.split(',').map((c) => `${alias}.${c.trim()}`).join(', ');
}

/** Indexes 0..n-1 of `items` in ascending order of `key`: the order rows are locked in. */
function ascending<T>(items: readonly T[], key: (item: T) => number): number[] {
  return items.map((_, i) => i).sort((a, b) => key(items[a]!) - key(items[b]!));
}

export type TaskQueries = TxOps<TaskOpName>;

export const taskQueries: TaskQueries = {
  taskByKey: async ({ db }, key) => one((await q.byKey(db, [key])).rows),

  async lockIdempotencyKeys({ db }, keys) {
    await q.lockKeys(db, [keys]);
  },

  async insertTaskUnlessKeyTaken({ db }, t) {
    const { rows } = await q.insert(db, [
      t.queue, t.type, t.priority, t.payload, t.compatibility, t.region, t.format, t.status, t.maxAttempts, t.runAfter,
      t.idempotencyKey, t.correlationId, t.timeoutSeconds, t.errorMessage, t.finishedAt, t.createdBy, t.now,
    ]);
    return rows.length === 0 ? null : rows[0]!.id;
  },

  async insertDependencies({ db }, taskId, dependsOn) {
    await q.insertDependencies(db, [taskId, dependsOn]);
  },

  lockStatuses: async ({ db }, ids) => (await q.lockStatuses(db, [ids])).rows,
  lockTask: async ({ db }, id) => one((await q.lockTask(db, [id])).rows),
  lockTaskIfLeased: async ({ db }, ref) => one((await q.lockTaskIfLeased(db, [ref.taskId, ref.leaseToken, ref.holder])).rows),
  dependencyIdsOf: async ({ db }, taskId) => (await q.dependencyIdsOf(db, [taskId])).rows.map((r) => r.d),

  async leaseHolder({ db }, taskId) {
    const r = (await q.leaseHolder(db, [taskId])).rows[0];
    return r ? { status: r.status, leaseToken: r.lease_token, lockedBy: r.locked_by } : null;
  },

  async markRunningIfQueued({ db }, claims, l) {
    const order = ascending(claims, (c) => c.taskId);
    const { rows } = await q.markRunningIfQueued(db, [order.map((i) => claims[i]!.taskId), order.map((i) => claims[i]!.leaseToken), l.leaseUntil, l.workerId, l.now]);
    // In the order given (ordinality counts from 1 in the sorted arrays).
    const byPlace = new Map(rows.map((r) => [order[r.n - 1]!, toTask(r)]));
    return claims.map((_, i) => byPlace.get(i)).filter((t): t is NonNullable<typeof t> => t !== undefined);
  },

  async extendLeaseIfHeld({ db }, leases, workerId, until) {
    const order = ascending(leases, (l) => l.taskId);
    const { rows } = await q.extendLeaseIfHeld(db, [order.map((i) => leases[i]!.taskId), order.map((i) => leases[i]!.leaseToken), workerId, until]);
    // By lease, not by place: a lease named twice updates its row once, and both places get it.
    const key = (l: { taskId: number; leaseToken: string }) => `${l.taskId}:${l.leaseToken}`;
    const held = new Map(rows.map((r) => [key(leases[order[r.n - 1]!]!), { leaseUntil: r.lease_until, cancelRequested: r.cancel_requested }]));
    return leases.map((l) => held.get(key(l)) ?? null);
  },

  async cancelRequestedOf({ db }, taskId) {
    const r = (await q.cancelRequestedOf(db, [taskId])).rows[0];
    return r ? r.c : null;
  },

  setMetadataIfLeased: async ({ db }, ref, metadata, now) =>
    one((await q.setMetadataIfLeased(db, [ref.taskId, ref.leaseToken, ref.holder, metadata, now])).rows),
  setProgressIfLeased: async ({ db }, ref, progress, message, now) =>
    one((await q.setProgressIfLeased(db, [ref.taskId, ref.leaseToken, ref.holder, progress, message, now])).rows),

  async finishIfLeased({ db }, refs, results, now) {
    const order = ascending(refs, (r) => r.taskId);
    const { rows } = await q.finishIfLeased(db, [
      order.map((i) => refs[i]!.taskId),
      order.map((i) => refs[i]!.leaseToken),
      order.map((i) => refs[i]!.holder),
      order.map((i) => results[i] ?? null),
      now,
    ]);
    const byPlace = new Map(rows.map((r) => [order[r.n - 1]!, toTask(r)]));
    return refs.map((_, i) => byPlace.get(i) ?? null);
  },

  releaseIfLeased: async ({ db }, ref, now) => one((await q.releaseIfLeased(db, [ref.taskId, ref.leaseToken, ref.holder, now])).rows),

  async endAttemptIfCurrent({ db }, taskId, attempt, end, now) {
    const { rows } =
      end.status === 'QUEUED'
        ? await q.requeueIfCurrent(db, [taskId, attempt, now, end.runAfter, end.errorMessage])
        : await q.endIfCurrent(db, [taskId, attempt, now, end.status, end.errorMessage]);
    return one(rows);
  },

  lockBlockedDependents: async ({ db }, taskIds) => (await q.lockBlockedDependents(db, [taskIds])).rows.map((r) => r.id),
  readyOf: async ({ db }, ids) => (await q.readyOf(db, [ids])).rows.map((r) => r.id),
  queueIfBlocked: async ({ db }, taskId, now) => one((await q.queueIfBlocked(db, [taskId, now])).rows),
  cancelIfBlocked: async ({ db }, taskId, why, now) => one((await q.cancelIfBlocked(db, [taskId, now, why])).rows),
  cancelIfWaiting: async ({ db }, taskId, why, now) => one((await q.cancelIfWaiting(db, [taskId, now, why])).rows),
  updateIfEditable: async ({ db }, taskId, e, now) =>
    one((await q.updateIfEditable(db, [taskId, e.payload, e.priority, e.runAfter, e.maxAttempts, now, e.format])).rows),
  requestCancelIfRunning: async ({ db }, taskId, why, now) => one((await q.requestCancelIfRunning(db, [taskId, now, why])).rows),
  resetIfRetryable: async ({ db }, taskId, status, now) => one((await q.resetIfRetryable(db, [taskId, now, status])).rows),

  async insertLog({ db }, l) {
    return toLog((await q.insertLog(db, [l.taskId, l.at, l.level, l.message, l.details])).rows[0]!);
  },

  lockLateAttempts: async ({ db }, now) => (await q.lockLateAttempts(db, [now])).rows.map(toTask),
  lockLapsedLeases: async ({ db }, now) => (await q.lockLapsedLeases(db, [now])).rows.map(toTask),
};
