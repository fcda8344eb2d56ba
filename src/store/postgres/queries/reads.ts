/**
 * PostgreSQL reads: lookups by id for the dataloaders, task lists with their filters,
 * logs, workers and the counts behind stats. Counts are counted (no trigger-kept table
 * as on SQLite: on PostgreSQL its few rows would be the hottest rows of every write,
 * and a source of lock waits between instances).
 */
import type { TaskQuery } from '../../driver.js';
import { groupBy } from '../../rows.js';
import type { TaskFilter, TaskLog, TaskStatus } from '../../types.js';
import { LOG_COLUMNS, TASK_COLUMNS, WORKER_COLUMNS, toLog, toTask, toWorker, type LogRow, type TaskRow, type WorkerRow } from '../../rows.js';
import type { ReadOpName } from '../../driver.js';
import { statement, type TxOps } from '../tx.js';


/** WHERE conditions and parameters for a checked TaskFilter. */
function filterSql(f: TaskFilter, params: unknown[]): string[] {
  const where: string[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const anyOf = (column: string, values: readonly unknown[] | null | undefined) => {
    if (!values) return;
    where.push(values.length === 0 ? 'false' : `${column} = ANY(${p(values)}::text[])`);
  };
  const compare = (column: string, op: string, value: unknown) => {
    if (value !== undefined && value !== null) where.push(`${column} ${op} ${p(value)}`);
  };
  anyOf('status', f.status);
  compare('queue', '=', f.queue);
  anyOf('type', f.type);
  anyOf('region', f.region);
  anyOf('format', f.format);
  compare('correlation_id', '=', f.correlationId);
  compare('idempotency_key', '=', f.idempotencyKey);
  compare('created_at', '>', f.createdAfter);
  compare('created_at', '<', f.createdBefore);
  return where;
}

const whereClause = (where: readonly string[]) => (where.length ? `WHERE ${where.join(' AND ')}` : '');

const q = {
  task: statement<TaskRow>('read_task', `SELECT ${TASK_COLUMNS} FROM tasks WHERE id = $1`),
  tasks: statement<TaskRow>('read_tasks', `SELECT ${TASK_COLUMNS} FROM tasks WHERE id = ANY($1::bigint[])`),
  dependencyIds: statement<{ k: number; v: number }>(
    'dependency_ids',
    'SELECT task_id AS k, depends_on_id AS v FROM task_dependencies WHERE task_id = ANY($1::bigint[]) ORDER BY task_id, depends_on_id',
  ),
  dependentIds: statement<{ k: number; v: number }>(
    'dependent_ids',
    'SELECT depends_on_id AS k, task_id AS v FROM task_dependencies WHERE depends_on_id = ANY($1::bigint[]) ORDER BY depends_on_id, task_id',
  ),
  logsAfter: statement<LogRow>('logs_after', `SELECT ${LOG_COLUMNS} FROM task_logs WHERE task_id = $1 AND id > $2 ORDER BY id LIMIT $3`),
  logsForTasks: statement<LogRow>(
    'logs_for_tasks',
    `SELECT ${LOG_COLUMNS} FROM (
       SELECT ${LOG_COLUMNS}, row_number() OVER (PARTITION BY task_id ORDER BY id) AS n
       FROM task_logs WHERE task_id = ANY($1::bigint[])) l
     WHERE n <= $2 ORDER BY task_id, id`,
  ),
  log: statement<LogRow>('read_log', `SELECT ${LOG_COLUMNS} FROM task_logs WHERE id = $1`),
  workers: statement<WorkerRow>('read_workers', `SELECT ${WORKER_COLUMNS} FROM workers WHERE id = ANY($1::text[])`),
  allWorkers: statement<WorkerRow>('list_workers', `SELECT ${WORKER_COLUMNS} FROM workers ORDER BY id`),
  workersIn: statement<WorkerRow>('list_workers_in', `SELECT ${WORKER_COLUMNS} FROM workers WHERE status = ANY($1::text[]) ORDER BY id`),
  lockedBy: statement<TaskRow>(
    'tasks_locked_by',
    `SELECT ${TASK_COLUMNS} FROM tasks WHERE status = 'RUNNING' AND locked_by = ANY($1::text[]) ORDER BY id`,
  ),
  grouped: statement<{ type: string; status: TaskStatus; count: number }>(
    'stats_grouped',
    'SELECT type, status, count(*) AS count FROM tasks WHERE ($1::text IS NULL OR queue = $1) GROUP BY type, status',
  ),
  oldestQueued: statement<{ at: number | null }>(
    'stats_oldest_queued',
    `SELECT min(created_at) AS at FROM tasks WHERE status = 'QUEUED' AND ($1::text IS NULL OR queue = $1)`,
  ),
  recent: statement<{ status: TaskStatus; count: number }>(
    'stats_recent',
    `SELECT status, count(*) AS count FROM tasks
     WHERE finished_at >= $1 AND ($2::text IS NULL OR queue = $2) GROUP BY status`,
  ),
  activeWorkers: statement<{ n: number }>('stats_active_workers', `SELECT count(*) AS n FROM workers WHERE status = 'ACTIVE'`),
  taskCounts: statement<{ queue: string; type: string; status: TaskStatus; count: number }>(
    'task_counts',
    'SELECT queue, type, status, count(*) AS count FROM tasks GROUP BY queue, type, status ORDER BY queue, status, type',
  ),
};

export type ReadQueries = TxOps<ReadOpName>;

export const readQueries: ReadQueries = {
  async task({ db }, id) {
    const r = (await q.task(db, [id])).rows[0];
    return r ? toTask(r) : null;
  },

  async tasks({ db }, ids) {
    const byId = new Map((await q.tasks(db, [ids])).rows.map((r) => [r.id, toTask(r)]));
    return ids.map((id) => byId.get(id) ?? null);
  },

  async listTasks({ db }, query: TaskQuery) {
    const params: unknown[] = [];
    const where = filterSql(query.filter, params);
    if (query.after) {
      const op = query.desc ? '<' : '>';
      if (query.key) {
        params.push(query.after[0], query.after[1]);
        where.push(`(${query.key}, id) ${op} ($${params.length - 1}, $${params.length})`);
      } else {
        params.push(query.after[0]);
        where.push(`id ${op} $${params.length}`);
      }
    }
    const dir = query.desc ? 'DESC' : 'ASC';
    const order = query.key ? `${query.key} ${dir}, id ${dir}` : `id ${dir}`;
    params.push(query.limit);
    const { rows } = await db.query<TaskRow>({ text: `SELECT ${TASK_COLUMNS} FROM tasks ${whereClause(where)} ORDER BY ${order} LIMIT $${params.length}`, values: params });
    return rows.map(toTask);
  },

  async countTasks({ db }, filter) {
    const params: unknown[] = [];
    const where = filterSql(filter, params);
    const { rows } = await db.query<{ n: number }>({ text: `SELECT count(*) AS n FROM tasks ${whereClause(where)}`, values: params });
    return rows[0]!.n;
  },

  async dependencyIds({ db }, ids) {
    return groupBy(ids, (await q.dependencyIds(db, [ids])).rows, (r) => r.k).map((l) => l.map((r) => r.v));
  },

  async dependentIds({ db }, ids) {
    return groupBy(ids, (await q.dependentIds(db, [ids])).rows, (r) => r.k).map((l) => l.map((r) => r.v));
  },

  logsAfter: async ({ db }, taskId, afterId, limit) => (await q.logsAfter(db, [taskId, afterId, limit])).rows.map(toLog),

  async logsForTasks({ db }, taskIds, perTask) {
    const logs = (await q.logsForTasks(db, [taskIds, perTask])).rows.map(toLog);
    return groupBy(taskIds, logs, (l: TaskLog) => l.taskId);
  },

  async log({ db }, id) {
    const r = (await q.log(db, [id])).rows[0];
    return r ? toLog(r) : null;
  },

  async workers({ db }, ids) {
    const byId = new Map((await q.workers(db, [ids])).rows.map((r) => [r.id, toWorker(r)]));
    return ids.map((id) => byId.get(id) ?? null);
  },

  async listWorkers({ db }, status) {
    const { rows } = status ? await q.workersIn(db, [status]) : await q.allWorkers(db, []);
    return rows.map(toWorker);
  },

  async tasksLockedBy({ db }, workerIds) {
    return groupBy(workerIds, (await q.lockedBy(db, [workerIds])).rows.map(toTask), (t) => t.lockedBy!);
  },

  async statsParts({ db }, queue, finishedSince) {
    // One after another: db may be one connection, which runs one statement at a time.
    const grouped = await q.grouped(db, [queue]);
    const oldest = await q.oldestQueued(db, [queue]);
    const recent = await q.recent(db, [finishedSince, queue]);
    const active = await q.activeWorkers(db, []);
    return {
      grouped: grouped.rows,
      oldestQueuedCreatedAt: oldest.rows[0]!.at,
      finishedSince: recent.rows,
      activeWorkers: active.rows[0]!.n,
    };
  },

  taskCounts: async ({ db }) => (await q.taskCounts(db, [])).rows,
};
