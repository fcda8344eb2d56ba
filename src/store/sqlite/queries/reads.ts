/**
 * SQLite reads: lookups by id for the dataloaders, task lists with their filters, logs,
 * workers and the counts behind stats. Several name an index or repeat a condition as a
 * literal: SQLite matches partial indexes against the query's text.
 */
import type { Ops, ReadOpName, TaskQuery } from '../../driver.js';
import { SETTLED_STATUSES } from '../../engine/transitions.js';
import { groupBy } from '../../rows.js';
import type { TaskFilter, TaskLog, TaskStatus } from '../../types.js';
import { LOG_COLUMNS, TASK_COLUMNS, WORKER_COLUMNS, toLog, toTask, toTaskFromValues, toWorker, type LogRow, type TaskRow, type WorkerRow } from '../../rows.js';
import { jsonList, sqlList, type Statements } from '../statements.js';

/** Exactly the WHERE of ix_tasks_settled_status (migration 004), written from the same list. */
const SETTLED_SQL = `status IN ${sqlList(SETTLED_STATUSES)}`;

export type ReadOps = Pick<Ops, ReadOpName>;


/** WHERE conditions and parameters for a checked TaskFilter. Region and format use their indexes. */
function filterSql(f: TaskFilter): { where: string[]; params: unknown[]; running: boolean } {
  const where: string[] = [];
  const params: unknown[] = [];
  const inList = (column: string, values: readonly unknown[] | null | undefined) => {
    if (!values) return;
    if (values.length === 0) {
      where.push('0');
      return;
    }
    where.push(`${column} IN (${values.map(() => '?').join(', ')})`);
    params.push(...values);
  };
  // One condition per filter field that is set; NULL and undefined mean "any".
  const compare = (column: string, op: string, value: unknown) => {
    if (value === undefined || value === null) return;
    where.push(`${column} ${op} ?`);
    params.push(value);
  };
  inList('status', f.status);
  // The same condition again as a literal, worded like a partial index's WHERE, so that
  // SQLite may use that index (a bound parameter matches nothing): BLOCKED and finished
  // tasks through ix_tasks_settled_status, QUEUED tasks of one queue through
  // ix_tasks_claim_fifo, RUNNING tasks through ix_tasks_running. Statuses were checked.
  const only = f.status && f.status.length > 0 ? new Set(f.status) : null;
  const running = only?.size === 1 && only.has('RUNNING');
  if (only && [...only].every((st) => SETTLED_STATUSES.includes(st))) where.push(SETTLED_SQL);
  else if (only?.size === 1 && only.has('QUEUED') && f.queue != null) where.push(`status = 'QUEUED'`);
  else if (running) where.push(`status = 'RUNNING'`);
  compare('queue', '=', f.queue);
  inList('type', f.type);
  inList('region', f.region);
  inList('format', f.format);
  compare('correlation_id', '=', f.correlationId);
  compare('idempotency_key', '=', f.idempotencyKey);
  compare('created_at', '>', f.createdAfter);
  compare('created_at', '<', f.createdBefore);
  return { where, params, running };
}

/** For each id in `from`, the ids at the other end of its edges, ascending. */
function edges(sql: Statements, from: 'task_id' | 'depends_on_id', to: 'task_id' | 'depends_on_id', ids: readonly number[]): number[][] {
  const rows = sql
    .get(`SELECT ${from} AS k, ${to} AS v FROM task_dependencies WHERE ${from} IN (SELECT value FROM json_each(?)) ORDER BY ${from}, ${to}`)
    .all(jsonList(ids)) as { k: number; v: number }[];
  return groupBy(ids, rows, (r) => r.k).map((list) => list.map((r) => r.v));
}

const whereClause = (where: readonly string[]) => (where.length ? `WHERE ${where.join(' AND ')}` : '');

export function readOps(sql: Statements): ReadOps {
  return {
    task(id) {
      const row = sql.get(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id = ?`).get(id) as TaskRow | undefined;
      return row ? toTask(row) : null;
    },

    tasks(ids) {
      const rows = sql.raw(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id IN (SELECT value FROM json_each(?))`).all(jsonList(ids)) as unknown[][];
      const byId = new Map(rows.map((r) => [r[0] as number, toTaskFromValues(r)]));
      return ids.map((id) => byId.get(id) ?? null);
    },

    listTasks(q: TaskQuery) {
      const { where, params, running } = filterSql(q.filter);
      if (q.after) {
        const op = q.desc ? '<' : '>';
        if (q.key) {
          where.push(`(${q.key}, id) ${op} (?, ?)`);
          params.push(q.after[0], q.after[1]);
        } else {
          where.push(`id ${op} ?`);
          params.push(q.after[0]);
        }
      }
      const dir = q.desc ? 'DESC' : 'ASC';
      const order = q.key ? `${q.key} ${dir}, id ${dir}` : `id ${dir}`;
      // RUNNING rows are few (worker concurrency bounds them): sorting them beats walking
      // the primary key past every finished task.
      const from = running ? 'tasks INDEXED BY ix_tasks_running' : 'tasks';
      const rows = sql.get(`SELECT ${TASK_COLUMNS} FROM ${from} ${whereClause(where)} ORDER BY ${order} LIMIT ?`).all(...params, q.limit) as TaskRow[];
      return rows.map(toTask);
    },

    countTasks(f) {
      // Filters on queue, type and status only are answered from task_counts, without
      // counting rows (a dashboard asks for these totals on every page).
      const countable = [f.region, f.format, f.correlationId, f.idempotencyKey, f.createdAfter, f.createdBefore].every(
        (v) => v === undefined || v === null,
      );
      const { where, params } = filterSql(f);
      const text = `SELECT ${countable ? 'coalesce(sum(count), 0)' : 'count(*)'} FROM ${countable ? 'task_counts' : 'tasks'} ${whereClause(where)}`;
      return sql.get(text).pluck().get(...params) as number;
    },

    // Edges in both directions, grouped by the task asked about.
    dependencyIds: (taskIds) => edges(sql, 'task_id', 'depends_on_id', taskIds),
    dependentIds: (taskIds) => edges(sql, 'depends_on_id', 'task_id', taskIds),

    logsAfter(taskId, afterId, limit) {
      const rows = sql.get(`SELECT ${LOG_COLUMNS} FROM task_logs WHERE task_id = ? AND id > ? ORDER BY id LIMIT ?`).all(taskId, afterId, limit) as LogRow[];
      return rows.map(toLog);
    },

    logsForTasks(taskIds, perTask) {
      const rows = sql
        .get(
          `SELECT ${LOG_COLUMNS} FROM (
             SELECT ${LOG_COLUMNS}, row_number() OVER (PARTITION BY task_id ORDER BY id) AS n
             FROM task_logs WHERE task_id IN (SELECT value FROM json_each(?)))
           WHERE n <= ? ORDER BY task_id, id`,
        )
        .all(jsonList(taskIds), perTask) as LogRow[];
      return groupBy(taskIds, rows.map(toLog), (l: TaskLog) => l.taskId);
    },

    log(id) {
      const row = sql.get(`SELECT ${LOG_COLUMNS} FROM task_logs WHERE id = ?`).get(id) as LogRow | undefined;
      return row ? toLog(row) : null;
    },

    workers(ids) {
      const rows = sql.get(`SELECT ${WORKER_COLUMNS} FROM workers WHERE id IN (SELECT value FROM json_each(?))`).all(jsonList(ids)) as WorkerRow[];
      const byId = new Map(rows.map((r) => [r.id, toWorker(r)]));
      return ids.map((id) => byId.get(id) ?? null);
    },

    listWorkers(status) {
      const rows = status
        ? (sql.get(`SELECT ${WORKER_COLUMNS} FROM workers WHERE status IN (SELECT value FROM json_each(?)) ORDER BY id`).all(jsonList(status)) as WorkerRow[])
        : (sql.get(`SELECT ${WORKER_COLUMNS} FROM workers ORDER BY id`).all() as WorkerRow[]);
      return rows.map(toWorker);
    },

    tasksLockedBy(workerIds) {
      const rows = sql
        .get(
          `SELECT ${TASK_COLUMNS} FROM tasks INDEXED BY ix_tasks_running
           WHERE status = 'RUNNING' AND locked_by IN (SELECT value FROM json_each(?)) ORDER BY id`,
        )
        .all(jsonList(workerIds)) as TaskRow[];
      return groupBy(workerIds, rows.map(toTask), (t) => t.lockedBy!);
    },

    statsParts(queue, finishedSince) {
      const q = queue;
      // task_counts is kept by triggers in the same transactions as the rows (migration 004).
      const grouped = sql
        .get(
          `SELECT type, status, sum(count) AS count FROM task_counts
           WHERE (@q IS NULL OR queue = @q) AND count > 0 GROUP BY type, status`,
        )
        .all({ q }) as { type: string; status: TaskStatus; count: number }[];
      // The oldest queued task of a queue is the first entry of its FIFO claim index: one
      // seek per queue that has queued tasks (the queues come from task_counts).
      const oldest = sql
        .get(
          `SELECT min((SELECT created_at FROM tasks INDEXED BY ix_tasks_claim_fifo
                       WHERE status = 'QUEUED' AND queue = c.queue ORDER BY id LIMIT 1))
           FROM (SELECT DISTINCT queue FROM task_counts WHERE status = 'QUEUED' AND count > 0 AND (@q IS NULL OR queue = @q)) c`,
        )
        .pluck()
        .get({ q }) as number | null;
      const recent = sql
        .get(
          `SELECT status, count(*) AS count FROM tasks
           WHERE finished_at >= @since AND (@q IS NULL OR queue = @q) GROUP BY status`,
        )
        .all({ since: finishedSince, q }) as { status: TaskStatus; count: number }[];
      const activeWorkers = sql.get(`SELECT count(*) FROM workers WHERE status = 'ACTIVE'`).pluck().get() as number;
      return { grouped, oldestQueuedCreatedAt: oldest, finishedSince: recent, activeWorkers };
    },

    taskCounts() {
      return sql.get('SELECT queue, type, status, count FROM task_counts WHERE count > 0 ORDER BY queue, status, type').all() as {
        queue: string;
        type: string;
        status: TaskStatus;
        count: number;
      }[];
    },
  };
}
